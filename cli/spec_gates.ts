// The approval-gate commands of the command table (see spec.ts).
import type { CommandSpec, FlagSpec } from "./types.ts";
import { followJsonLines, runJson } from "./spec_json.ts";

const decisionFlags: FlagSpec[] = [
  {
    name: "step",
    type: "string",
    value: "STEP",
    description: "the gate's step id or name (needed when the run has several pending gates)",
  },
  { name: "reason", type: "string", value: "TEXT", description: "why, recorded on the decision" },
];

const gateJson = (verb: string) => {
  const at = '"attempt": 1, ';
  if (!runJson.includes(at)) throw new Error(`the run example lost ${at}`);
  return `{"stepId": "deploy/confirm", ${
    runJson.slice(1).replace(
      at,
      `${at}"approval": {"prompt": "Ship 1.4 to prod?", "approvers": ["ada"], "forbidRunActor": false, "expiresTime": "…", "onTimeout": "reject", "decision": {"approved": ${
        verb === "approve"
      }, "actor": "ada", "time": "…", "reason": "…"}}, `,
    )
  }`;
};

export const gateCommands: CommandSpec[] = [
  {
    noun: "workflow",
    verb: "approvals",
    summary: "list approval gates waiting for a decision",
    description:
      "Lists the gates of every run that wait for a person: run id, workflow, step, prompt, who may decide and when the gate expires. Reading the runs applies any timeout that has passed, so an expired gate is not listed: it has already taken its on-timeout action.",
    args: [],
    flags: [{
      name: "workflow",
      type: "string",
      value: "NAME",
      description: "only gates of runs of this workflow",
    }],
    examples: ["swamp workflow approvals", "swamp workflow approvals --workflow deploy --json"],
    json:
      `{"approvals": [{"runId": "0f5c…", "workflowName": "deploy", "stepId": "ship/confirm", "gate": {"prompt": "Ship 1.4 to prod?", "approvers": ["ada", "grace"], "forbidRunActor": true, "expiresTime": "2026-11-22T09:00:00Z", "onTimeout": "reject"}}]}`,
    load: () => import("./commands/workflow_approvals.ts"),
  },
  {
    noun: "workflow",
    verb: "approve",
    summary: "approve a waiting gate (runs nothing)",
    description:
      "Writes an approval on a gate that waits: who, when and why. It runs nothing: the run goes on when it is resumed (`swamp workflow resume`). --step may be left out when the run has one pending gate. Refused, with the reason, when the actor is not among the gate's approvers, when the gate forbids the run's starter and that is who asks, or when the gate has expired (it then says when, and the gate has already taken its on-timeout action).",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [...decisionFlags],
    examples: [
      "swamp workflow approve 0f5c",
      "swamp workflow approve 0f5c --step ship/confirm --reason 'checked the canary'",
    ],
    json: gateJson("approve"),
    load: () => import("./commands/workflow_approve.ts"),
  },
  {
    noun: "workflow",
    verb: "reject",
    summary: "reject a waiting gate: the run fails at once",
    description:
      "Writes a rejection on a gate that waits: who, when and why. The gate fails and the suspended run fails at once; every step it had not reached is skipped with the reason. The same checks as approve apply.",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [...decisionFlags],
    examples: ["swamp workflow reject 0f5c --reason 'error rate too high'"],
    json: gateJson("reject"),
    load: () => import("./commands/workflow_reject.ts"),
  },
  {
    noun: "workflow",
    verb: "resume",
    summary: "continue a suspended or abandoned run, or re-enter a failed one with --from",
    description:
      "Starts a new attempt of a run from its record: every step that has ended stays as it is (a succeeded step is not run again) and the rest runs with the recorded outputs available, exactly as an uninterrupted run would. The run keeps the workflow definition it started with, whatever the file says now. Refused while a gate still waits (the error names it) and while the run is already running, so of two resumes at once exactly one wins. An abandoned run (its owner died) is resumed once everything its steps recorded (a process group, a container) is ended and confirmed gone; then every step that did not succeed runs again (not one a guard skipped, nor a gate already decided), a gate that was waiting waits again, and nested runs resume with it; it is refused, naming each step, when that cannot be confirmed from here (a step on another host: resume it there; a worker's step), and for a run abandoned while it was being cancelled. --from re-enters a failed or abandoned run at a step: that step, its forEach items and everything downstream of it go back to pending. Resuming a nested run resumes the top-level run it belongs to. Inputs given here win over the run's own; only their names are recorded. Prints the run id, then follows the run like `workflow run`, Ctrl-C included (--detach returns at once).",
    args: [{ name: "RUN", required: true, description: "run id or a unique prefix of it" }],
    flags: [
      {
        name: "input",
        type: "list",
        value: "NAME=VALUE",
        description: "an input value for this attempt (repeatable); only its name is recorded",
      },
      {
        name: "from",
        type: "string",
        value: "STEP",
        description: "re-enter a failed or abandoned run at this step (id or name)",
      },
      { name: "detach", type: "boolean", description: "return once the run is resumed" },
    ],
    examples: [
      "swamp workflow resume 0f5c",
      "swamp workflow resume 0f5c --from build/test --input retries=3",
    ],
    json: followJsonLines,
    jsonLines: true,
    load: () => import("./commands/workflow_resume.ts"),
  },
];
