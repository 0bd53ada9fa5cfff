// The command surface as data: the parser, the help text and the generated
// reference pages (docs/reference/cli) all read this one table. Handlers are
// loaded only when their command runs, to keep start-up fast.
import type { FlagSpec } from "./types.ts";

export type { FlagSpec };

export interface ArgSpec {
  name: string;
  required: boolean;
  description: string;
}

export interface CommandSpec {
  noun: string;
  verb: string;
  summary: string;
  description: string;
  args: ArgSpec[];
  flags: FlagSpec[];
  examples: string[];
  /** The --json output, as an example document. */
  json: string;
  load: () => Promise<{ run: (ctx: never) => Promise<number> }>;
}

export interface NounSpec {
  noun: string;
  summary: string;
}

export const globalFlags: FlagSpec[] = [
  {
    name: "json",
    type: "boolean",
    description: "print one JSON document on stdout instead of text",
  },
  {
    name: "repo",
    type: "string",
    value: "DIR",
    description: "the repository to act on (default: walk up from the current directory)",
  },
  {
    name: "no-color",
    type: "boolean",
    description: "no colours in output (also when NO_COLOR is set or output is not a terminal)",
  },
  { name: "quiet", short: "q", type: "boolean", description: "print only results and errors" },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    description: "print more detail, including the cause chain of errors",
  },
  { name: "help", short: "h", type: "boolean", description: "show help for the command" },
];

export const nouns: NounSpec[] = [
  { noun: "repo", summary: "create and inspect swamp repositories" },
  { noun: "workflow", summary: "write, check and inspect workflows" },
];

const errorJson =
  `{"error": {"code": "not_found", "message": "…", "hint": "…", "cause": "…", "diagnostics": []}}`;
export const errorShape = errorJson;

export const commands: CommandSpec[] = [
  {
    noun: "repo",
    verb: "init",
    summary: "create a swamp repository",
    description:
      "Creates workflows/, models/, extensions/models/, the runtime state directory .swamp/ (added to .gitignore) and .swamp.yaml, which records the store choice. Running it again on an existing repository changes nothing and says so.",
    args: [{
      name: "DIR",
      required: false,
      description: "where to create it (default: the current directory)",
    }],
    flags: [{
      name: "store",
      type: "string",
      value: "KIND",
      choices: ["file", "sqlite"],
      description: "where runtime state is kept: plain files (default) or SQLite",
    }],
    examples: ["swamp repo init", "swamp repo init ops --store sqlite"],
    json:
      `{"path": "/home/me/ops", "store": "STORE_KIND_FILE", "created": ["workflows/", "models/", "extensions/models/", ".swamp/", ".swamp.yaml", ".gitignore"], "alreadyInitialized": false}`,
    load: () => import("./commands/repo_init.ts"),
  },
  {
    noun: "workflow",
    verb: "create",
    summary: "write a new workflow file with a fresh id",
    description:
      "Writes workflows/workflow-NAME.yaml: a valid skeleton with a fresh UUID, one job and one command/shell step. Refuses to overwrite an existing workflow.",
    args: [{
      name: "NAME",
      required: true,
      description: "lower-case letters, digits and dashes, at most 64 characters",
    }],
    flags: [{
      name: "description",
      type: "string",
      value: "TEXT",
      description: "the workflow's description",
    }],
    examples: [
      "swamp workflow create deploy",
      'swamp workflow create nightly --description "Nightly backup"',
    ],
    json:
      `{"workflow": {"id": "7f9c…", "name": "deploy", "description": "…", "file": "workflows/workflow-deploy.yaml", "hash": "sha256 hex", "jobCount": 1, "stepCount": 1}}`,
    load: () => import("./commands/workflow_create.ts"),
  },
  {
    noun: "workflow",
    verb: "get",
    summary: "show a workflow by name or id",
    description:
      "Prints a workflow's id, file, jobs and steps. With --json, also the parsed definition and the file's text.",
    args: [{ name: "WORKFLOW", required: true, description: "workflow name or id" }],
    flags: [],
    examples: ["swamp workflow get deploy", "swamp workflow get deploy --json"],
    json:
      `{"workflow": {"id": "…", "name": "deploy", "description": "…", "file": "workflows/workflow-deploy.yaml", "hash": "…", "jobCount": 2, "stepCount": 5}, "definition": {"id": "…", "name": "deploy", "jobs": […]}, "source": "id: …"}`,
    load: () => import("./commands/workflow_get.ts"),
  },
  {
    noun: "workflow",
    verb: "validate",
    summary: "check workflows and the models they use",
    description:
      "Checks the schema (with did-you-mean hints for unknown keys), unique job and step names, that every dependsOn reference exists, that jobs and steps have no dependency cycles, that every referenced model type, model definition, method and nested workflow exists, and that conditions are well formed. Every problem is reported with file:line:column, not only the first. Exits 0 when everything is valid (warnings allowed), 3 otherwise.",
    args: [{
      name: "WORKFLOW",
      required: false,
      description: "workflow name or id (or use --all)",
    }],
    flags: [{
      name: "all",
      type: "boolean",
      description: "validate every workflow in the repository",
    }],
    examples: ["swamp workflow validate deploy", "swamp workflow validate --all --json"],
    json:
      `{"results": [{"file": "workflows/workflow-deploy.yaml", "workflowId": "…", "workflowName": "deploy", "valid": false, "diagnostics": [{"severity": "SEVERITY_ERROR", "rule": "unknown-key", "message": "unknown key \`dependOn\` in \`jobs[0].steps[1]\`", "hint": "did you mean \`dependsOn\`?", "file": "workflows/workflow-deploy.yaml", "line": 14, "column": 9, "path": "jobs[0].steps[1].dependOn"}]}], "modelDiagnostics": []}`,
    load: () => import("./commands/workflow_validate.ts"),
  },
];

export function findCommand(noun: string, verb: string): CommandSpec | undefined {
  return commands.find((c) => c.noun === noun && c.verb === verb);
}
