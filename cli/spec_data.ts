// `swamp data list|get|query` in the command table (docs/reference/data.md).
import type { CommandSpec } from "./types.ts";

const item =
  `{"id": "…", "model": "web", "modelType": "aws/ec2", "name": "server", "spec": "instance", "version": 3, "hash": "sha256:…", "tags": {"env": "prod"}, "runId": "…", "stepId": "deploy/create", "attempt": 1, "createTime": "2026-12-01T09:00:00Z"`;

export const dataCommands: CommandSpec[] = [
  {
    noun: "data",
    verb: "list",
    summary: "list data items, the newest version of each",
    description:
      "Lists the data items method calls wrote: the newest version of each (model, name), ordered by model then name; with --all-versions every version, newest first within an item. Filters combine. The runtime's own state is listed as built-in models when --model names one: swamp/worker, swamp/enrollment-token (never a secret or its hash), swamp/step-lease. Pages with --limit and --cursor: the command for the next page, on stderr, repeats the filters. With -q, prints MODEL and NAME, tab-separated, one item a line. --json leaves out the attributes (`data get` and `data query` include them). Needs the viewer role through a server (--server).",
    args: [],
    flags: [
      { name: "model", type: "string", value: "MODEL", description: "only items of this model" },
      {
        name: "spec",
        type: "string",
        value: "SPEC",
        description: "only items written under this resource spec",
      },
      {
        name: "run",
        type: "string",
        value: "RUN",
        description: "only items this run wrote (a whole run id)",
      },
      { name: "all-versions", type: "boolean", description: "every version, not only the newest" },
      {
        name: "limit",
        type: "string",
        value: "N",
        description: "at most N items (default 20, at most 10000)",
      },
      {
        name: "cursor",
        type: "string",
        value: "CURSOR",
        description: "the next page, from a previous listing",
      },
    ],
    examples: [
      "swamp data list",
      "swamp data list --model web --all-versions",
      "swamp data list --model swamp/worker",
    ],
    json: `{"items": [${item}}], "nextCursor": "…"}`,
    load: () => import("./commands/data_list.ts"),
  },
  {
    noun: "data",
    verb: "get",
    summary: "show one data item: its newest version, or the one asked for",
    description:
      "Prints a header line on stderr (model, name, version of how many, hash, which run, step and attempt wrote it, when) and the attributes as YAML on stdout. Exits 4 (not_found) for an unknown item or version, with the versions there are. Needs the viewer role through a server (--server).",
    args: [
      {
        name: "MODEL",
        required: true,
        description:
          "the model definition's name, e.g. web (or a built-in model, e.g. swamp/worker)",
      },
      { name: "NAME", required: true, description: "the data name" },
    ],
    flags: [{
      name: "version",
      type: "string",
      value: "N",
      description: "this version instead of the newest",
    }],
    examples: ["swamp data get web server", "swamp data get web server --version 2 --json"],
    json: `{"item": ${item}, "attributes": {"ip": "10.0.0.7", "size": 4}}}`,
    load: () => import("./commands/data_get.ts"),
  },
  {
    noun: "data",
    verb: "query",
    summary: "the newest data items a CEL predicate holds for",
    description:
      "Evaluates a CEL predicate over the newest version of every data item, in the expression sandbox, a batch of items per evaluation; with --model, only the items of that model, which may be a built-in one (swamp/worker, swamp/enrollment-token, swamp/step-lease: the runtime's own state, which an unfiltered query does not read). The predicate sees each item as `item`: id, model, modelType, name, spec, version, hash, tags, runId, stepId, attempt, createTime and createdAt (RFC 3339 text), and attributes. It must give true or false; a predicate that does not parse, names anything but `item`, or fails on an item (a missing field: guard it with has()) is an error that names the item, exit 3 (expression_invalid). Prints the matching items as `data list` does; --json includes their attributes. Needs the viewer role through a server (--server).",
    args: [{ name: "PREDICATE", required: true, description: "a CEL expression over `item`" }],
    flags: [{
      name: "model",
      type: "string",
      value: "MODEL",
      description: "only items of this model (stored or built-in)",
    }],
    examples: [
      `swamp data query 'item.model == "web" && item.attributes.size > 3'`,
      `swamp data query 'has(item.tags.env) && item.tags.env == "prod"' --json`,
      `swamp data query --model swamp/step-lease 'item.attributes.hasWritten'`,
    ],
    json: `{"items": [${item}, "attributes": {"ip": "10.0.0.7", "size": 4}}]}`,
    load: () => import("./commands/data_query.ts"),
  },
];
