// `workflow files` in the command table (see spec.ts).
import type { CommandSpec } from "./types.ts";

export const filesCommand: CommandSpec = {
  noun: "workflow",
  verb: "files",
  summary: "list the repository's workflows: name, id, file, jobs, steps, valid or not",
  description:
    "Lists the workflow files under workflows/ (`workflow list` lists runs): each one's name, id, file, how many jobs and steps it declares, and whether it passes `workflow validate`, with its count of errors and warnings. Exits 0 whatever the files hold; `swamp workflow validate NAME` shows the problems (and exits 3). With -q, prints only the names, one a line. With --json, prints what `workflow validate --all --json` prints.",
  args: [],
  flags: [],
  examples: ["swamp workflow files", "swamp workflow files -q", "swamp workflow files --json"],
  json:
    `{"results": [{"file": "workflows/workflow-deploy.yaml", "workflowId": "7f9c…", "workflowName": "deploy", "valid": true, "diagnostics": [], "jobCount": 2, "stepCount": 5}], "modelDiagnostics": []}`,
  load: () => import("./commands/workflow_files.ts"),
};
