import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { Trigger } from "../../proto/gen/swamp/v1/run_pb.ts";
import { stepsVariable } from "./fan_out_variables.ts";

// Every step sees the same identity, as CEL variables and as SWAMP_*
// environment variables (DESIGN §9).

export function triggerName(trigger: Trigger): string {
  switch (trigger) {
    case Trigger.SCHEDULED:
      return "scheduled";
    case Trigger.RESUMED:
      return "resumed";
    case Trigger.API:
      return "api";
    default:
      return "manual";
  }
}

export interface StepContext {
  run: Run;
  step: Step;
  /** The steps of the step's job as written (their outcomes are variables). */
  siblings: readonly Step[];
  /** The forEach item, when the step is an expansion. */
  item?: { name: string; value: unknown };
  inputs: Record<string, unknown>;
  /** The declared host variables (`reads.env`) that are set. */
  env?: Record<string, string>;
}

/** The CEL variables of a step. */
export function stepVariables(context: StepContext): Record<string, unknown> {
  const { run, step } = context;
  let steps: Record<string, unknown> | undefined;
  return {
    inputs: context.inputs,
    env: context.env ?? {},
    self: context.item ? { [context.item.name]: context.item.value } : {},
    run: {
      id: run.id,
      attempt: run.attempt,
      workflowName: run.workflowName,
      workflowId: run.workflowId,
      actor: run.actor,
      trigger: triggerName(run.trigger),
    },
    job: { id: step.job, name: step.job },
    step: { id: step.id, name: step.name },
    item: { index: step.itemIndex, key: step.itemKey },
    worker: { id: "local" },
    // Made when an expression first needs it: it is as large as the job, and
    // most steps' templates have no expression at all.
    get steps() {
      return steps ??= stepsVariable(run, context.siblings);
    },
  };
}

/**
 * The host variables a workflow declares it reads (`reads.env`), those that are
 * set in this process. Nothing else of the environment reaches expressions.
 */
export function declaredEnv(names: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The SWAMP_* environment of a step. */
export function identityEnv(run: Run, step: Step, workerId = "local"): Record<string, string> {
  return {
    SWAMP_RUN_ID: run.id,
    SWAMP_RUN_ATTEMPT: String(Math.max(run.attempt, 1)),
    SWAMP_WORKFLOW_NAME: run.workflowName,
    SWAMP_WORKFLOW_ID: run.workflowId,
    SWAMP_ACTOR: run.actor,
    SWAMP_EVENT_NAME: triggerName(run.trigger),
    SWAMP_JOB_ID: step.job,
    SWAMP_JOB_NAME: step.job,
    SWAMP_STEP_ID: step.id,
    SWAMP_STEP_NAME: step.name,
    SWAMP_ITEM_INDEX: step.itemIndex >= 0 ? String(step.itemIndex) : "",
    SWAMP_ITEM_KEY: step.itemKey,
    SWAMP_WORKER_ID: workerId,
  };
}

/** Host variables a step inherits; the rest of the supervisor's environment stays out. */
export const inheritedEnv = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
];

let inherited: Record<string, string> | undefined;

/** The inherited variables, read once per process (the supervisor's environment does not change). */
export function baseEnv(): Record<string, string> {
  if (!inherited) {
    inherited = {};
    for (const name of inheritedEnv) {
      const value = Deno.env.get(name);
      if (value !== undefined) inherited[name] = value;
    }
  }
  return { ...inherited };
}
