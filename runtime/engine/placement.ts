import { create } from "@bufbuild/protobuf";
import {
  type Placement as StepPlacement,
  PlacementSchema,
  type Run,
  type Step,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import {
  defaultWorkerExecutor,
  type Executor,
  type StepContext,
  type StepSetup,
  type StepWork,
} from "../ports/executor.ts";
import type { ExecutorBlock } from "../workflow/schema.ts";
import type { EngineDeps } from "./deps.ts";
import { placingExecutor } from "../executors/mod.ts";
import { baseEnv, identityEnv } from "./identity.ts";
import { durationMs } from "./shell_task.ts";

// Which executor runs a step, and what it needs to know beyond the command:
// the container, the limits, and the names its work is labelled with.

/** Labels every container (or other started thing) of a step carries. */
export function workLabels(run: Run, step: Step): Record<string, string> {
  return {
    "dev.swamp.run-id": run.id,
    "dev.swamp.attempt": String(Math.max(run.attempt, 1)),
    "dev.swamp.workflow": run.workflowName,
    "dev.swamp.job": step.job,
    "dev.swamp.step-id": step.id,
    "dev.swamp.item-index": String(step.itemIndex),
  };
}

export interface Placement {
  executor: Executor;
  /**
   * The step runs on a remote worker: it holds no host slot here, and its
   * events include queued/placed/redispatched.
   */
  remote?: boolean;
  /** The environment the step starts from, before command/shell's own `env`. */
  env: Record<string, string>;
  /** Adds what the executor needs to the work. */
  complete(work: StepWork): StepWork;
}

export function placementFor(
  deps: EngineDeps,
  config: ExecutorBlock | undefined,
  run: Run,
  step: Step,
  placed?: StepPlacement,
  queueTimeoutMs?: number,
): Placement {
  if (isPlaced(placed)) return remotePlacement(deps, config, run, step, placed, queueTimeoutMs);
  const identity = identityEnv(run, step);
  const executor = !config || config.type === deps.executor.name
    ? deps.executor
    : deps.executors?.get(config.type);
  if (!executor) {
    throw new SwampError(
      ErrorCode.EXECUTOR_UNAVAILABLE,
      `no ${config?.type} executor is available to run step ${step.id}`,
    );
  }
  const context = { identity, hostEnv: baseEnv(), labels: workLabels(run, step) };
  // Without a block the default executor's own rule applies (loopback: the host's environment).
  // An executor with no settings takes the host's environment under the identity.
  return { executor, ...setupOf(executor, config, step, context) };
}

/** The executor's settings applied to the block (its default block when there is none). */
function setupOf(
  executor: Executor,
  block: ExecutorBlock | undefined,
  step: Step,
  context: StepContext,
): StepSetup {
  if (!executor.settings) {
    return { env: { ...context.hostEnv, ...context.identity }, complete: (w) => w };
  }
  try {
    return executor.settings.prepare(block ?? { type: executor.name }, context);
  } catch (error) {
    // Checked when the run started: the workflow file has changed since.
    throw new SwampError(
      ErrorCode.INVALID_WORKFLOW,
      `step ${step.id}: its \`executor: ${executor.name}\` block is not valid: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { hint: "see the problems with `swamp workflow validate`" },
    );
  }
}

/** True when an evaluated placement names a worker or labels: the step runs on a remote worker. */
export function isPlaced(placed: StepPlacement | undefined): placed is StepPlacement {
  return placed !== undefined &&
    (placed.target !== "" || Object.keys(placed.labels).length > 0);
}

/** `{gpu: "true", pool: "a"}`, as messages show a selector. */
export function labelsText(labels: Record<string, string>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`;
}

/**
 * A placed step runs on the remote executor, which exists only in `swamp
 * serve` (its worker hub). The worker runs it with the executor its block
 * names (loopback without one), and the orchestrator prepares its work with
 * that executor's settings, as for a step run here: only the host whose
 * environment a step may start from is the server's `--pass-env` allowlist,
 * never this process's whole environment. The repository's directory does
 * not exist on a worker, so no cwd is sent unless the step names one (the
 * worker uses its scratch dir).
 */
function remotePlacement(
  deps: EngineDeps,
  config: ExecutorBlock | undefined,
  run: Run,
  step: Step,
  placed: StepPlacement,
  queueTimeoutMs: number | undefined,
): Placement {
  // The executor that places steps on workers (the worker hub's), whatever its name.
  const remote = placingExecutor(deps.executors);
  const where = [
    placed.target && `target ${JSON.stringify(placed.target)}`,
    Object.keys(placed.labels).length > 0 && `labels ${labelsText(placed.labels)}`,
  ].filter(Boolean).join(" and ");
  if (!remote) {
    throw new SwampError(
      ErrorCode.EXECUTOR_UNAVAILABLE,
      `executor_unavailable: step ${step.id} is placed (${where}) and must run on a remote ` +
        "worker, but this run has none: a local run has no worker hub. Submit the run to " +
        "`swamp serve` with a connected worker (`swamp workflow run NAME --server URL`), or " +
        "remove `target`/`labels` to run it here",
    );
  }
  const type = config?.type ?? defaultWorkerExecutor;
  const chosen = type === deps.executor.name ? deps.executor : deps.executors?.get(type);
  if (!chosen?.runsOnWorkers) {
    // `workflow validate` refuses this; a run of a file changed since is refused here.
    const offered = [deps.executor, ...(deps.executors?.values() ?? [])]
      .filter((e) => e.runsOnWorkers).map((e) => e.name);
    throw new SwampError(
      ErrorCode.INVALID_WORKFLOW,
      `step ${step.id} runs in \`executor: ${type}\` and is placed on a remote worker ` +
        `(${where}), but no worker can run ${type}: workers offer ${
          [...new Set(offered)].join(", ")
        }`,
      { hint: "remove `target`/`labels` to run it here, or choose an executor workers offer" },
    );
  }
  const labels = workLabels(run, step);
  const setup = setupOf(chosen, config, step, {
    identity: identityEnv(run, step),
    hostEnv: { ...deps.remoteEnv },
    labels,
  });
  return {
    executor: remote,
    remote: true,
    env: setup.env,
    complete: (work) => ({
      ...setup.complete(work),
      placement: {
        ...(placed.target ? { target: placed.target } : {}),
        ...(Object.keys(placed.labels).length > 0 ? { labels: { ...placed.labels } } : {}),
        executor: type,
        ...(queueTimeoutMs !== undefined ? { queueTimeoutMs } : {}),
      },
      attempt: Math.max(run.attempt, 1),
      labels,
    }),
  };
}

/** A step's `target` and `labels` as written, before evaluation, and its queue timeout. */
export interface PlacementTemplates {
  target?: string;
  labels?: Record<string, string>;
  /** The innermost `queueTimeout` in milliseconds. */
  queueTimeoutMs?: number;
}

type Placed = {
  target?: string;
  labels?: Record<string, string>;
  queueTimeout?: string | number;
} | undefined;

/** The innermost `target`, and the labels of workflow, job and step merged (inner keys win). */
export function placementTemplates(
  workflow: Placed,
  job: Placed,
  step: Placed,
): PlacementTemplates | undefined {
  const target = step?.target ?? job?.target ?? workflow?.target;
  const labels = { ...workflow?.labels, ...job?.labels, ...step?.labels };
  if (target === undefined && Object.keys(labels).length === 0) return undefined;
  const queueTimeoutMs = durationMs(
    step?.queueTimeout ?? job?.queueTimeout ?? workflow?.queueTimeout,
  );
  return { target, labels, ...(queueTimeoutMs !== undefined ? { queueTimeoutMs } : {}) };
}

/** The value tree to evaluate with the step's other templates (null when there is no placement). */
export function placementTree(templates: PlacementTemplates | undefined): unknown {
  return templates ? { target: templates.target ?? "", labels: templates.labels ?? {} } : null;
}

/**
 * The evaluated placement as recorded on the step, evaluated in the step's
 * own templating pass so that a selector such as `${{ run.id }}` names this
 * run. A value that is not text fails the step: a selector that cannot
 * resolve must not silently match nothing.
 */
export function placementRecord(value: unknown, where: string): StepPlacement | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { target, labels } = value as { target: unknown; labels: Record<string, unknown> };
  const text = (v: unknown, what: string) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new SwampError(
      ErrorCode.EXPRESSION_INVALID,
      `placement of ${where}: ${what} must evaluate to text, not ${JSON.stringify(v)}`,
    );
  };
  return create(PlacementSchema, {
    target: text(target, "target"),
    labels: Object.fromEntries(
      Object.entries(labels).map(([k, v]) => [k, text(v, `label ${k}`)]),
    ),
  });
}
