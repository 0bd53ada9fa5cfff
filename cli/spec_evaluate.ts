// `workflow evaluate` in the command table (see spec.ts).
import type { CommandSpec } from "./types.ts";

export const evaluateCommand: CommandSpec = {
  noun: "workflow",
  verb: "evaluate",
  summary: "show a workflow with what can be known before a run evaluated",
  description:
    "Evaluates, in the CEL sandbox, every `${{ }}` expression of the workflow that uses nothing but `inputs` and `env` (the host variables the workflow declares under `reads.env`, read from this shell), with the inputs given (after defaults and types are applied, as `workflow run` would), and prints the workflow as YAML with those expressions replaced by their values. Expressions that need the run (run, step, item, steps, …) are left as written and listed on stderr with the reason; a reference to `steps.<name>` also says what it will read, as a run resolves it: a step, a forEach step's aggregate (its items' outputs in item order, with the items' names when `in` and the name are known before the run; a templated forEach step by its stem, `steps.deploy` for `deploy-${{ self.host }}`), or one item by its resolved name. Nothing runs and nothing is written.",
  args: [{ name: "WORKFLOW", required: true, description: "workflow name or id" }],
  flags: [
    {
      name: "input",
      type: "list",
      value: "NAME=VALUE",
      description: "an input value (repeatable), as for `workflow run`",
    },
    {
      name: "input-file",
      type: "string",
      value: "FILE",
      description: "inputs from a YAML or JSON file (a map); --input wins",
    },
  ],
  examples: ["swamp workflow evaluate deploy --input env=prod"],
  json:
    `{"workflowName": "deploy", "file": "workflows/workflow-deploy.yaml", "inputs": {"env": "prod"}, "definition": {"id": "…", "name": "deploy", "jobs": [{"name": "ship", "steps": [{"name": "push", "task": {"type": "model_method", "inputs": {"run": "echo deploying to prod"}}}]}]}, "unresolved": [{"path": "jobs[0].steps[1].task.inputs.run", "expression": "run.id", "reason": "known only during a run (run)"}]}`,
  load: () => import("./commands/workflow_evaluate.ts"),
};
