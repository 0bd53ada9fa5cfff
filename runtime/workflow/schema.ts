import * as z from "zod/mini";
import { durationPattern } from "../text/duration.ts";

// Shapes of workflow files (docs/reference/workflow-file.md). Keys accepted by
// swamp's own format are accepted here too, so its files load unchanged; the
// ones this version does not act on are reported as warnings by the checks.

const name = z.string().check(z.minLength(1, "must not be empty"));
const envName = z.string().check(
  z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, _)"),
);
const stringMap = z.record(z.string(), z.string());
const seconds = z.number().check(z.nonnegative());
/** A number of seconds, or a duration text such as "90s", "5m", "2h". */
export const duration = z.union([
  seconds,
  z.string().check(
    z.regex(durationPattern, "must be seconds or a duration like 30s, 5m, 2h, 1h30m"),
  ),
]);

/**
 * `executor:` on a workflow, job or step (the innermost wins). Its fields
 * belong to the executor its `type` names, which checks them with its own
 * schema (executor_check.ts): the runtime knows no executor's settings.
 */
const executorBlock = z.looseObject({
  type: z.string().check(z.minLength(1, "must not be empty")),
});

export type ExecutorBlock = z.infer<typeof executorBlock>;

const placement = {
  executor: z.optional(executorBlock),
  target: z.optional(z.string()),
  labels: z.optional(stringMap),
  platform: z.optional(z.string()),
  queueTimeout: z.optional(duration),
};

/** The most attempts `retry.attempts` may ask for: a bound, so a typo cannot loop for days. */
export const maxRetryAttempts = 10;

/**
 * `retry:` on a step: run a failed step again, up to `attempts` in all, waiting
 * `backoff` before each new attempt (a fixed duration, or `initial` growing by
 * `factor` per attempt up to `max`). Durations are bounded in checks (retry_check.ts).
 */
const retry = z.strictObject({
  attempts: z.int().check(
    z.minimum(1, "must be at least 1"),
    z.maximum(maxRetryAttempts, `must be at most ${maxRetryAttempts}`),
  ),
  backoff: z.optional(z.union([
    duration,
    z.strictObject({
      initial: duration,
      max: z.optional(duration),
      factor: z.optional(
        z.number().check(
          z.minimum(1, "must be at least 1"),
          z.maximum(10, "must be at most 10"),
        ),
      ),
    }),
  ])),
});

export type Retry = z.infer<typeof retry>;

const simpleConditionTypes = ["always", "succeeded", "failed", "completed", "skipped"] as const;
export const conditionTypes = [...simpleConditionTypes, "and", "or", "not"] as const;

export type Condition =
  | { type: (typeof simpleConditionTypes)[number] }
  | { type: "and" | "or"; conditions: Condition[] }
  | { type: "not"; condition: Condition };

const simpleCondition = z.strictObject({ type: z.enum(simpleConditionTypes) });
const conditionList = (inner: z.ZodMiniType<Condition>) =>
  z.array(inner).check(z.minLength(2, "needs at least two conditions"));

export const condition: z.ZodMiniType<Condition> = z.discriminatedUnion("type", [
  simpleCondition,
  z.strictObject({
    type: z.enum(["and", "or"]),
    get conditions() {
      return conditionList(condition);
    },
  }),
  z.strictObject({
    type: z.literal("not"),
    get condition() {
      return condition;
    },
  }),
]);

/**
 * The same conditions nested at most `depth` levels. Narrower, and with
 * neither a cycle nor a getter, so zod can compile it (quick_check.ts).
 */
export function boundedCondition(depth: number): z.ZodMiniType<Condition> {
  if (depth === 0) return simpleCondition;
  const inner = boundedCondition(depth - 1);
  return z.discriminatedUnion("type", [
    simpleCondition,
    z.strictObject({ type: z.enum(["and", "or"]), conditions: conditionList(inner) }),
    z.strictObject({ type: z.literal("not"), condition: inner }),
  ]);
}

const jsonSchemaObject = z.looseObject({
  type: z.optional(z.string()),
  properties: z.optional(z.record(z.string(), z.unknown())),
  required: z.optional(z.array(z.string())),
});

const modelMethodTask = z.strictObject({
  type: z.literal("model_method"),
  modelIdOrName: z.optional(name),
  modelType: z.optional(name),
  modelName: z.optional(name),
  methodName: name,
  inputs: z.optional(z.union([z.record(z.string(), z.unknown()), z.string()])),
  globalArgs: z.optional(z.record(z.string(), z.unknown())),
});

const workflowTask = z.strictObject({
  type: z.literal("workflow"),
  workflowIdOrName: name,
  inputs: z.optional(z.union([z.record(z.string(), z.unknown()), z.string()])),
});

const approvalTask = z.strictObject({
  type: z.literal("manual_approval"),
  prompt: name,
  timeout: z.optional(duration),
  onTimeout: z.optional(z.enum(["reject", "approve"])),
  approvers: z.optional(z.array(name)),
  allowRunActor: z.optional(z.boolean()),
});

const assertTask = z.strictObject({
  type: z.literal("assert"),
  expr: name,
  message: name,
  severity: z.optional(z.enum(["low", "medium", "high"])),
});

export const taskTypes = ["model_method", "workflow", "manual_approval", "assert"] as const;

export const task = z.discriminatedUnion("type", [
  modelMethodTask,
  workflowTask,
  approvalTask,
  assertTask,
]);

/** The step, job and workflow schemas, built around a condition schema. */
export function workflowSchemas(condition: z.ZodMiniType<Condition>) {
  const stepDependency = z.strictObject({ step: name, condition });
  const jobDependency = z.strictObject({ job: name, condition });

  const step = z.strictObject({
    name,
    description: z.optional(z.string()),
    task,
    dependsOn: z.optional(z.array(stepDependency)),
    forEach: z.optional(z.strictObject({ item: name, in: z.unknown() })),
    concurrency: z.optional(z.int().check(z.nonnegative())),
    allowFailure: z.optional(z.boolean()),
    guard: z.optional(z.union([z.string(), z.boolean()])),
    timeout: z.optional(duration),
    retry: z.optional(retry),
    weight: z.optional(z.number()),
    writes: z.optional(z.boolean()),
    dataOutputOverrides: z.optional(z.array(z.unknown())),
    ...placement,
  });

  const job = z.strictObject({
    name,
    description: z.optional(z.string()),
    steps: z.array(step).check(z.minLength(1, "a job needs at least one step")),
    dependsOn: z.optional(z.array(jobDependency)),
    concurrency: z.optional(z.int().check(z.nonnegative())),
    weight: z.optional(z.number()),
    affinity: z.optional(z.boolean()),
    writes: z.optional(z.boolean()),
    ...placement,
  });

  const workflow = z.strictObject({
    id: z.string().check(z.uuid("must be a UUID (swamp workflow create makes one)")),
    name,
    description: z.optional(z.string()),
    version: z.optional(z.int().check(z.positive())),
    inputs: z.optional(jsonSchemaObject),
    jobs: z.array(job).check(z.minLength(1, "a workflow needs at least one job")),
    tags: z.optional(stringMap),
    concurrency: z.optional(z.int().check(z.nonnegative())),
    /** The longest the run may run (from its start or resume); then it is stopped like a cancel. */
    timeout: z.optional(duration),
    /** Named locks the run holds from start to end; runs naming the same lock take turns. */
    locks: z.optional(z.array(name)),
    trigger: z.optional(z.strictObject({
      schedule: z.optional(z.string()),
      inputs: z.optional(z.record(z.string(), z.unknown())),
    })),
    reports: z.optional(z.unknown()),
    affinity: z.optional(z.boolean()),
    writes: z.optional(z.boolean()),
    autoResume: z.optional(z.boolean()),
    vaults: z.optional(z.array(name)),
    /** Host environment variables the workflow's expressions may read, as `env.NAME`. */
    reads: z.optional(z.strictObject({ env: z.optional(z.array(envName)) })),
    ...placement,
  });
  return { step, job, workflow };
}

export const { step, job, workflow } = workflowSchemas(condition);

export type Workflow = z.infer<typeof workflow>;
export type Job = z.infer<typeof job>;
export type Step = z.infer<typeof step>;
export type Task = z.infer<typeof task>;

/** Keys accepted for compatibility with swamp's format that this version does not act on. */
export const inertKeys: Record<string, string> = {
  trigger: "schedules and webhook triggers",
  reports: "reports",
  vaults: "vaults",
  affinity: "affinity settings",
  writes: "write declarations",
  autoResume: "auto-resume settings",
  dataOutputOverrides: "data output overrides",
  platform: "platform placements",
};
