// The command surface as data: the parser, the help text and the generated
// reference pages (docs/reference/cli) all read this one table. Handlers are
// loaded only when their command runs, to keep start-up fast.
import type { ArgSpec, CommandSpec, FlagSpec } from "./types.ts";
import { gateCommands } from "./spec_gates.ts";
import { evaluateCommand } from "./spec_evaluate.ts";
import { dataCommands } from "./spec_data.ts";
import { filesCommand } from "./spec_files.ts";
import { followJsonLines, runJson } from "./spec_json.ts";
import { remoteFlags } from "./remote.ts";
import { pruneCommands } from "./spec_prune.ts";
import { storeCommands } from "./spec_store.ts";
import { serveCommands } from "./spec_serve.ts";
import { workerCommands } from "./spec_worker.ts";
import { vaultCommands } from "./spec_vault.ts";
import { executorCommands } from "./spec_executor.ts";

export type { ArgSpec, CommandSpec, FlagSpec };

export interface NounSpec {
  noun: string;
  summary: string;
}

export const globalFlags: FlagSpec[] = [
  {
    name: "json",
    type: "boolean",
    description:
      "print JSON on stdout instead of text: one document, or NDJSON where a command follows a run",
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
  {
    name: "quiet",
    short: "q",
    type: "boolean",
    description:
      "print only results and errors; list commands print only what each row is known by (`workflow list`: run ids; `files`, `worker list`, `executor list`, `worker token list`, `auth token list`: names; `workflow approvals`: RUN STEP), `status` only the status",
  },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    description:
      "print more detail: `workflow list` more columns, `status` each step's process and placement; stack traces of internal errors",
  },
  { name: "help", short: "h", type: "boolean", description: "show help for the command" },
];

export const nouns: NounSpec[] = [
  { noun: "repo", summary: "create and inspect swamp repositories" },
  { noun: "workflow", summary: "write, check and inspect workflows" },
  { noun: "run", summary: "housekeeping of stored runs: prune those that ended long ago" },
  { noun: "store", summary: "the repository's store: its schema migrations (PostgreSQL)" },
  { noun: "serve", summary: "serve the RPC API and own the runs submitted to it" },
  { noun: "auth", summary: "API tokens and who you are to a server" },
  { noun: "worker", summary: "remote workers: run one, list and drain them, and their tokens" },
  { noun: "vault", summary: "encrypted secrets for workflows: `vault.get` in expressions" },
  {
    noun: "executor",
    summary: "executor plugins: list them, test one against the executor contract",
  },
  { noun: "data", summary: "the versioned data items method calls wrote: list, get, query" },
];

const errorJson =
  `{"error": {"code": "not_found", "message": "…", "hint": "…", "cause": "…", "diagnostics": []}}`;
export const errorShape = errorJson;

/**
 * How a read command is run for you by the supervisor waiting for the
 * repository's next run (docs/design/0033); appended to their descriptions.
 */
const servedNote =
  " When a supervisor waits for the repository's next run (see `workflow run`), it runs this command for the command line, which prints what it printed: the same output and exit status, without loading the command's code (about twice as quick to start), also with --server (the supervisor makes the call, and closes its connection when the command ends). Not in a repository with executor modules. A command that finds none waiting starts one as it ends; SWAMP_STANDBY_IDLE=0 turns both off.";

export const commands: CommandSpec[] = [
  {
    noun: "repo",
    verb: "init",
    summary: "create a swamp repository",
    description:
      "Creates workflows/, models/, extensions/models/, the runtime state directory .swamp/ (added to .gitignore) and .swamp.yaml, which records the store choice. With --store postgres it first connects to the database and applies the store's schema (nothing is created when it cannot). Running it again on an existing repository changes nothing and says so. A DIR that is a file, or lies under one, is a usage error; one the file system refuses to create or write (permissions, a read-only file system, /proc) is an io error naming the path.",
    args: [{
      name: "DIR",
      required: false,
      description: "where to create it (default: the current directory)",
    }],
    flags: [{
      name: "store",
      type: "string",
      value: "KIND",
      choices: ["file", "sqlite", "postgres"],
      description:
        "where runtime state is kept: plain files (default), SQLite, or a PostgreSQL database (docs/reference/stores.md)",
    }, {
      name: "dsn",
      type: "string",
      value: "DSN",
      description:
        "with --store postgres: postgres://USER@HOST[:PORT]/DATABASE (or ?host=/socket/dir), recorded in .swamp.yaml; default SWAMP_STORE_DSN. A DSN with a password is refused",
    }, {
      name: "password-file",
      type: "string",
      value: "FILE",
      description:
        "with --store postgres: a file holding the database password, recorded in .swamp.yaml as passwordFile (never the password itself)",
    }],
    examples: [
      "swamp repo init",
      "swamp repo init ops --store sqlite",
      "swamp repo init ops --store postgres --dsn postgres://swamp@db.internal/swamp --password-file ~/.config/swamp/pg-password",
    ],
    json:
      `{"path": "/home/me/ops", "store": "file", "created": ["workflows/", "models/", "extensions/models/", ".swamp/", ".swamp.yaml", ".gitignore"], "alreadyInitialized": false}`,
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
  filesCommand,
  {
    noun: "workflow",
    verb: "validate",
    summary: "check workflows and the models they use",
    description:
      "Checks the schema (with did-you-mean hints for unknown keys), unique job and step names, that every dependsOn reference exists, that jobs and steps have no dependency cycles, that every referenced model type, model definition, method and nested workflow exists, and that conditions are well formed. Every problem is reported with file:line:column, not only the first. Exits 0 when everything is valid (warnings allowed), 3 otherwise." +
      servedNote,
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
      `{"results": [{"file": "workflows/workflow-deploy.yaml", "workflowId": "…", "workflowName": "deploy", "valid": false, "diagnostics": [{"severity": "error", "rule": "unknown-key", "message": "unknown key \`dependOn\` in \`jobs[0].steps[1]\`", "hint": "did you mean \`dependsOn\`?", "file": "workflows/workflow-deploy.yaml", "line": 14, "column": 9, "path": "jobs[0].steps[1].dependOn"}]}], "modelDiagnostics": []}`,
    load: () => import("./commands/workflow_validate.ts"),
  },
];

commands.push(
  {
    noun: "workflow",
    verb: "run",
    summary: "start a run of a workflow and follow it",
    description:
      "Validates the workflow, creates a durable run and starts a supervisor process for it in its own session, then prints the run id as the first line and follows the run's progress and logs until it ends (as `workflow watch` shows them: a live summary on a terminal, a line per change otherwise, NDJSON under --json), exiting with its outcome (0 succeeded, 1 failed, 10 cancelled, 11 abandoned, 12 suspended at a gate). Ctrl-C leaves the run going: it says a second Ctrl-C within 3 s cancels, keeps following meanwhile, then stops following, prints how to follow, wait for, see or cancel the run and exits 13 (run_active: the run has not ended; with --json, the last line is the run as it stands). A second Ctrl-C within those 3 s (SWAMP_INTERRUPT_WINDOW_MS changes the window) asks for a cooperative cancel and shows it through; a third stops following while the cancel goes on. These prompts go to stderr even under --json or -q. Ctrl-C before the run id is printed (while the run is being submitted) means do not start it: the submission is let finish, the run it created is cancelled at once (reason `interrupted from the terminal while starting`), its id is printed and the command exits 10 (run_cancelled); a second Ctrl-C stops waiting and exits 13. If the terminal closes, the run goes on. With --detach, prints the run id and returns once the supervisor has claimed the run. A supervisor that cannot be started, or exits before it claims the run, has the run recorded abandoned at once, with how it exited, and the command fails with run_abandoned (exit status 11). The supervisor takes its limits from this command's environment: SWAMP_MAX_CONCURRENT_STEPS (steps of this run at once, default 16), SWAMP_HOST_MAX_STEPS (shell steps of every run on the host at once, default 64, 0 for none; a malformed value is a usage error), SWAMP_HOST_SLOTS_DIR and SWAMP_CANCEL_GRACE_MS. When a run ends (or 2 s after it starts, if it goes on), another supervisor starts to wait for the repository's next run (`supervise.js --wait ROOT` in `ps`, listening on a unix socket in a directory only this user can enter, $XDG_RUNTIME_DIR or /tmp, /swamp-UID/): the next `workflow run` hands it the run as soon as the command starts, and that supervisor checks and creates the run with this command's environment and working directory, so its first step starts sooner (about 150 ms after the command, against 400 ms without). It takes one run, then another waits; it exits after SWAMP_STANDBY_IDLE seconds without one (default 600, at most 24 days; 0 turns waiting off), when the repository or swamp's build is gone, or on SIGTERM. Only when swamp runs from its launcher's bundle.",
    args: [{ name: "WORKFLOW", required: true, description: "workflow name or id" }],
    flags: [
      {
        name: "input",
        type: "list",
        value: "NAME=VALUE",
        description:
          "an input value (repeatable); JSON values are parsed for array and object inputs",
      },
      {
        name: "input-file",
        type: "string",
        value: "FILE",
        description: "inputs from a YAML or JSON file (a map); --input wins",
      },
      { name: "detach", type: "boolean", description: "return once the run is started" },
    ],
    examples: ["swamp workflow run deploy", "swamp workflow run deploy --input env=prod --detach"],
    json: followJsonLines,
    jsonLines: true,
    load: () => import("./commands/workflow_run.ts"),
  },
  {
    noun: "workflow",
    verb: "status",
    summary: "show a run: its steps, owner, waits and cancel timeline",
    description:
      "Shows a run's status with its jobs and steps (status, duration, reason), the process that owns it, what it waits on, and the cancel timeline when there is one. Each forEach step that fanned out is listed with how many of its items ended how and which failed (failures allowed by allowFailure included, marked allowed); --json has them as fanOuts. Reading a running run checks its owner: a dead owner makes the run abandoned at once. A unique prefix of the run id is enough. With -q, prints only the run's status (running, succeeded, failed, …); with -v, also each step's start and end time, exit code and attempt, the process that ran it (pid, process group, executor, worker, lease) and where it was placed (target, labels, worker)." +
      servedNote,
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [
      {
        name: "exit-status",
        type: "boolean",
        description:
          "exit with the run's state: 0 succeeded, 1 failed, 10 cancelled, 11 abandoned, 12 suspended, 13 not ended yet",
      },
    ],
    examples: [
      "swamp workflow status 0f5c",
      "swamp workflow status 0f5c --json",
      "swamp workflow status 0f5c --exit-status",
    ],
    json: runJson.replace('{"run": {', '{"definitionChanged": false, "run": {').replace(
      /}$/,
      ', "fanOuts": [{"step": "build/deploy-${{ self.host }}", "total": 3, "succeeded": 2, "failed": 1, "failedItems": ["deploy-b"], "allowFailure": true}]}',
    ),
    load: () => import("./commands/workflow_status.ts"),
  },
  {
    noun: "workflow",
    verb: "logs",
    summary: "print a run's log, or follow it",
    description:
      "Prints the lines a run's steps wrote, tagged with their step, in order. With --follow, keeps printing until the run ends (at once if it already has), then prints how it ended and exits with that: 0 succeeded, 1 failed, 10 cancelled, 11 abandoned, 12 suspended. Ctrl-C stops following at once and leaves the run going: the command prints how the run stands and how to reach it, and exits with its state (13, run_active, while it goes on). Every line has a sequence number; --from SEQ prints only later lines, so a broken follow can be resumed exactly where it stopped. With --json, prints one JSON object per line (NDJSON); with --follow, the last line is the run's state, {\"run\": {…}}, as `workflow status --json` gives it.",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [
      {
        name: "follow",
        short: "f",
        type: "boolean",
        description: "keep printing until the run ends",
      },
      {
        name: "step",
        type: "string",
        value: "STEP",
        description: "only this step's lines (step id or name)",
      },
      {
        name: "from",
        type: "string",
        value: "SEQ",
        description: "only lines after this sequence number",
      },
    ],
    examples: [
      "swamp workflow logs 0f5c",
      "swamp workflow logs 0f5c --follow --step build/compile",
    ],
    json:
      `{"seq": 17, "time": "2026-11-21T09:00:01.250Z", "stepId": "build/compile", "stream": "stdout", "text": "compiling…"}\n{"run": {"id": "0f5c…", "status": "succeeded", …}}   (last, with --follow)`,
    jsonLines: true,
    load: () => import("./commands/workflow_logs.ts"),
  },
  {
    noun: "workflow",
    verb: "watch",
    summary: "follow a run that is going: a live summary on a terminal",
    description:
      "Follows a run until it ends, as `workflow run` follows the run it starts. On a terminal (stderr), a live summary redrawn in place at most ten times a second: the run's status and elapsed time, how many of its steps (forEach items counted one by one) succeeded out of how many, how many run, failed, wait or are skipped, and the running ones by name (an item by its evaluated name); failures are printed above the summary as they happen, and the run's output too; the last summary stays when the run ends. NO_COLOR or --no-color turns colour off; TERM=dumb or -q gives the plain lines instead. Not on a terminal: a line per change (a step's or item's status, the run's status, cancel stages, waits) and the run's output. With --json: NDJSON from the first event on, one object a line: {\"event\": {…}} for each run event, {\"line\": {…}} for each log line, and last the run's state, {\"run\": {…}}. Ctrl-C as in `workflow run`: one detaches (exit 13), a second within 3 s cancels. Exits with the run's outcome: 0 succeeded, 1 failed, 10 cancelled, 11 abandoned, 12 suspended.",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [],
    examples: ["swamp workflow watch 0f5c", "swamp workflow watch 0f5c --json | jq -c .event"],
    json: followJsonLines,
    jsonLines: true,
    load: () => import("./commands/workflow_watch.ts"),
  },
  {
    noun: "workflow",
    verb: "wait",
    summary: "wait until a run has ended or stops at a gate; exit with how it stands",
    description:
      "Waits, printing nothing on the way, until the run has ended or is suspended at an approval gate, then prints its final line (with --json, the run) and exits with its state: 0 succeeded, 1 failed, 10 cancelled, 11 abandoned, 12 suspended. With --timeout, gives up after that long with deadline_exceeded (exit status 6); the run goes on. Works the same against a server (--server).",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [
      {
        name: "timeout",
        type: "string",
        value: "DURATION",
        description: "give up after this long (30s, 5m, 1h); default: wait as long as it takes",
      },
    ],
    examples: ["swamp workflow wait 0f5c", "swamp workflow wait 0f5c --timeout 10m --json"],
    json: runJson.replace('{"run": {', '{"definitionChanged": false, "run": {'),
    load: () => import("./commands/workflow_wait.ts"),
  },
  {
    noun: "workflow",
    verb: "cancel",
    summary: "cancel a run and wait until everything of it has stopped",
    description:
      "Records the intent to cancel durably, then tells the run's owner, which stops starting steps, stops each running step's process group (interrupt, terminate, kill), confirms the processes are gone and marks the run cancelled. Waits (up to 30 s) and reports the final state unless --no-wait; a supervisor on this host that wrote no heartbeat in that wait is ended by its pid and the run reconciled as cancelled. A suspended run is cancelled at once. Cancelling a run that has already ended says so and changes nothing.",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [
      { name: "reason", type: "string", value: "TEXT", description: "why, recorded on the run" },
      {
        name: "no-wait",
        type: "boolean",
        description: "return once the cancel is recorded and delivered",
      },
    ],
    examples: ["swamp workflow cancel 0f5c --reason 'wrong branch'"],
    json: `{"changed": true, ${runJson.slice(1)}`,
    load: () => import("./commands/workflow_cancel.ts"),
  },
  {
    noun: "workflow",
    verb: "list",
    summary: "list recent runs, newest first",
    description:
      "Lists runs across all workflows, newest first (`workflow files` lists the workflows themselves): id, workflow, status, who started it, when, and what it waits on (a lock and its holder, an approval, a host step slot: waiting.hostSlot with its dir and limit in --json). Every unfinished run the listing shows is checked first (with --status, every unfinished run, since checking one may move it in or out of the filter), so a run whose owner died shows as abandoned; `workflow reconcile` checks them all. Pages with --limit and --cursor: the command for the next page, on stderr, repeats the filters. When nothing matches and --workflow names no workflow of the repository, says so (with the nearest name). With -q, prints only the whole run ids, one a line, for scripts; with -v, a table of the whole ids with each run's attempt, when it ended and how long it took." +
      servedNote,
    args: [],
    flags: [
      {
        name: "workflow",
        type: "string",
        value: "NAME",
        description: "only runs of this workflow",
      },
      {
        name: "status",
        type: "list",
        value: "STATUS",
        description: "only runs in this status (repeatable)",
      },
      { name: "limit", type: "string", value: "N", description: "at most N runs (default 20)" },
      {
        name: "cursor",
        type: "string",
        value: "CURSOR",
        description: "the next page, from a previous listing",
      },
    ],
    examples: ["swamp workflow list", "swamp workflow list --status running --status cancelling"],
    json:
      `{"runs": [{"id": "…", "workflowName": "deploy", "status": "running", "actor": "ada", "createTime": "…", "waiting": {"lock": "model:command/shell/db", "holderRunId": "…"}, "attempt": 1}], "nextCursor": "…"}`,
    load: () => import("./commands/workflow_list.ts"),
  },
  {
    noun: "workflow",
    verb: "reconcile",
    summary: "mark runs whose owner is gone as abandoned, and clean up after them",
    description:
      "Checks every run that is not finished: a run whose owner process is gone (or, on another host, whose heartbeat is too old) becomes abandoned with the reason; the processes its steps left are ended (never a process that merely reuses a pid) and its locks released. Never re-runs a step. --dry-run reports without changing anything.",
    args: [],
    flags: [{
      name: "dry-run",
      type: "boolean",
      description: "report what would change, change nothing",
    }],
    examples: ["swamp workflow reconcile --dry-run"],
    json:
      `{"changes": [{"runId": "…", "from": "running", "to": "abandoned", "reason": "owner-process-not-alive", "actions": ["marked the run abandoned (owner-process-not-alive)", "step build/compile: ended process group 4250", "released lock model:command/shell/db"]}], "examined": 3}`,
    load: () => import("./commands/workflow_reconcile.ts"),
  },
);

commands.push(
  ...gateCommands,
  evaluateCommand,
  ...pruneCommands,
  ...storeCommands,
  ...serveCommands,
  ...workerCommands,
  ...vaultCommands,
  ...executorCommands,
  ...dataCommands,
);

// Commands that can act through a server take the same four flags and run the
// same code either way (DESIGN §4).
const remoteVerbs = new Set([
  "workflow get",
  "workflow files",
  "workflow validate",
  "workflow evaluate",
  "workflow run",
  "workflow status",
  "workflow logs",
  "workflow wait",
  "workflow watch",
  "workflow cancel",
  "workflow list",
  "workflow reconcile",
  "workflow prune",
  "run prune",
  "workflow approvals",
  "workflow approve",
  "workflow reject",
  "workflow resume",
  "auth whoami",
  "auth token create",
  "auth token list",
  "auth token revoke",
  "worker token create",
  "worker token list",
  "worker token revoke",
  "worker list",
  "worker drain",
  "data list",
  "data get",
  "data query",
]);
for (const command of commands) {
  if (remoteVerbs.has(`${command.noun} ${command.verb}`)) {
    command.remote = true;
    command.flags.push(...remoteFlags);
  }
}

export function findCommand(noun: string, verb: string): CommandSpec | undefined {
  return commands.find((c) => c.noun === noun && c.verb === verb);
}
