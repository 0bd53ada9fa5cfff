// `run prune` (and its alias `workflow prune`, beside the other run verbs) in the command table.
import type { CommandSpec, FlagSpec } from "./types.ts";

const flags = (): FlagSpec[] => [
  {
    name: "older-than",
    type: "string",
    value: "DURATION",
    description: "only runs that ended at least this long ago (90m, 12h, 30d); required",
  },
  {
    name: "status",
    type: "list",
    value: "STATUS",
    description:
      "only runs in this status (repeatable): succeeded, failed, cancelled, abandoned; default all four",
  },
  { name: "workflow", type: "string", value: "NAME", description: "only runs of this workflow" },
  { name: "dry-run", type: "boolean", description: "list what would be deleted, delete nothing" },
];

const description =
  "Deletes runs that have finished (succeeded, failed, cancelled or abandoned) and ended at least --older-than ago: each run's events, snapshot, summary, log lines, approval records, index entries and any lock or lease still naming it, one run at a time and whole: a crash or kill leaves every run either complete or gone. A run that is pending, running, suspended or cancelling is never touched, and each run is checked again under the store's own lock (file store) or transaction (SQLite) as it is deleted, so a failed run that a resume made live after the listing is skipped and counted as such. Abandoned runs are included by default (reconcile has already ended their processes and released their locks); keep them for investigation with --status succeeded --status failed --status cancelled. A run without an end time is kept. Prints how many runs went and the bytes of records freed; --dry-run lists the runs instead. On a terminal, shows progress on stderr. Needs the admin role through a server (--server).";

const json =
  `{"runs": [{"id": "…", "workflowName": "deploy", "status": "succeeded", "actor": "ada", "createTime": "…", "endTime": "…", "attempt": 1}], "bytesFreed": 48211, "skipped": 0, "examined": 120}`;

export const pruneCommands: CommandSpec[] = [
  {
    noun: "run",
    verb: "prune",
    summary: "delete finished runs that ended before a cutoff, never a live one",
    description,
    args: [],
    flags: flags(),
    examples: [
      "swamp run prune --older-than 30d --dry-run",
      "swamp run prune --older-than 30d --status succeeded --status cancelled",
      "swamp run prune --older-than 7d --workflow nightly --json",
    ],
    json,
    load: () => import("./commands/run_prune.ts"),
  },
  {
    noun: "workflow",
    verb: "prune",
    summary: "the same as `swamp run prune`, beside the other run commands",
    description: `The same command as \`swamp run prune\`. ${description}`,
    args: [],
    flags: flags(),
    examples: ["swamp workflow prune --older-than 30d"],
    json,
    load: () => import("./commands/run_prune.ts"),
  },
];
