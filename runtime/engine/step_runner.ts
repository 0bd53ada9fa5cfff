// One started step to its end: its attempts and retries, what its task runs
// (a model method, an assertion, a nested workflow) and how it ended;
// step_dispatch.ts runs a command through its executor.
import { create } from "@bufbuild/protobuf";
import { StepStatusChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { SwampError } from "../errors/mod.ts";
import { renderTemplate } from "../expressions/template.ts";
import type { RunJournal } from "../run/journal.ts";
import { isOwnershipLost } from "../run/fencing.ts";
import { RunStatus, StepStatus } from "../run/status.ts";
import type { EngineDeps } from "./deps.ts";
import { stepVariables } from "./identity.ts";
import { isPlaced, placementRecord, placementTree } from "./placement.ts";
import type { LockKeeper } from "./locks.ts";
import { LogWriter } from "./logs.ts";
import { recordWarning } from "./warnings.ts";
import { stepChange, stepOutputs } from "./step_events.ts";
import { resolveModelTarget } from "./shell_task.ts";
import { renderModelArguments } from "./model_args.ts";
import { runExtensionStep } from "./extension_step.ts";
import {
  type Outcome,
  recordRunning,
  runShell,
  type StepCall,
  type StepRun,
} from "./step_dispatch.ts";

export type { StepRun };
import { sleepOn } from "../ports/clock.ts";
import {
  isRetryable,
  retryPolicy,
  retryReason,
  retryState,
  retryWait,
  retryWaitOver,
} from "./retry.ts";

/** Runs one started step to its end and records how it ended. Never throws. */
export async function runStep(
  deps: EngineDeps,
  journal: RunJournal,
  locks: LockKeeper,
  job: StepRun,
): Promise<void> {
  const logs = new LogWriter(
    deps.store,
    deps.clock,
    job.run.id,
    job.step.id,
    (count, error) =>
      void recordWarning(journal, {
        source: "log",
        stepId: job.step.id,
        count,
        message: `${count} log line${count === 1 ? "" : "s"} of step ${job.step.id} could not be ` +
          `written: ${error}`,
      }),
    journal.mask,
  );
  // A host slot is given back only once the step's end is recorded, so no two
  // steps' recorded run times overlap beyond the ceiling.
  const call: StepCall = {
    deps,
    journal,
    locks,
    job,
    logs,
    recorded: StepStatus.PENDING,
    // A step run before (a resume re-entering it) goes on from its last attempt
    // number, so no two attempts of a step, or two leases of a remote one, share one.
    // An adopted step goes on with the attempt its worker's lease runs (0027, 0029).
    attempt: deps.adoptLeases?.get(job.step.id)?.attempt ??
      Math.max(job.run.attempt, 1, job.step.attempt > 0 ? job.step.attempt + 1 : 0),
  };
  try {
    await runAndRecord(call);
  } finally {
    call.slot?.release();
  }
}

/** One attempt of the step, to its outcome. */
async function attemptOnce(call: StepCall): Promise<Outcome> {
  const { job, logs } = call;
  try {
    return await execute(call);
  } catch (error) {
    // Another process owns the run now: nothing more is written, not even a log line.
    if (isOwnershipLost(error, job.run.id)) throw error;
    const message = error instanceof SwampError || error instanceof Error
      ? error.message
      : String(error);
    logs.line("system", `error: ${message}`);
    return job.signal.aborted
      ? { status: StepStatus.CANCELLED, reason: "cancelled" }
      : { status: StepStatus.FAILED, reason: message };
  }
}

/**
 * Runs attempts until one succeeds, one may not be retried, or `retry.attempts`
 * are spent. Between attempts the step is recorded back to `pending`, waiting
 * on its backoff until a recorded time, so a reader (or a reconcile after the
 * supervisor died) sees exactly where it was.
 */
async function attemptAll(call: StepCall): Promise<Outcome> {
  const { deps, job, logs } = call;
  const policy = retryPolicy(job.def.retry);
  if (policy) call.retry = retryState(1, policy.attempts);
  for (let attempt = 1;; attempt++) {
    const outcome = await attemptOnce(call);
    if (!policy || attempt >= policy.attempts || !isRetryable(outcome, job.signal)) return outcome;
    const waitMs = policy.backoffMs(attempt + 1);
    const next = new Date(deps.clock.now().getTime() + waitMs);
    const reason = retryReason(attempt, policy.attempts, outcome.reason, waitMs);
    logs.line("system", reason);
    await logs.flush().catch(() => {});
    // No host slot is held through a backoff: another step may run meanwhile.
    call.slot?.release();
    call.slot = undefined;
    call.attempt++;
    call.retry = retryState(attempt + 1, policy.attempts, waitMs > 0 ? next : undefined);
    const written = await call.journal.append(
      {
        reason,
        payload: {
          case: "stepStatusChanged",
          value: stepChange(
            job.step.id,
            call.recorded,
            StepStatus.PENDING,
            outcome.exitCode ?? 0,
            undefined,
            undefined,
            call.attempt,
            call.retry,
          ),
        },
      },
      ...(waitMs > 0 ? [retryWait(job.step.id, next)] : []),
    );
    if (written.length > 0) call.recorded = StepStatus.PENDING;
    if (!await sleepOn(deps.clock, waitMs, job.signal)) {
      logs.line("system", `cancelled while waiting to start attempt ${attempt + 1}`);
      return { status: StepStatus.CANCELLED, reason: "cancelled while waiting for a retry" };
    }
    call.retry = retryState(attempt + 1, policy.attempts);
    if (waitMs > 0) await call.journal.append(retryWaitOver(job.step.id));
  }
}

async function runAndRecord(call: StepCall): Promise<void> {
  const { journal, locks, job, logs } = call;
  const outcome = await attemptAll(call);
  await logs.flush().catch(() => {});
  const { status, reason, exitCode, outputs } = outcome;
  // The step's end and, if it was the last of the run on its model, the lock given back: one
  // write, flushed to disk while the next step is decided and prepared (decision record 0034).
  await locks.stepEnded(job.step.id, (released) =>
    journal.appendFlushedLater(
      ...(outputs
        ? [{
          payload: {
            case: "stepOutputsRecorded" as const,
            value: stepOutputs(job.step.id, outputs),
          },
        }]
        : []),
      {
        reason,
        payload: {
          case: "stepStatusChanged",
          value: stepChange(
            job.step.id,
            call.recorded,
            status,
            exitCode ?? 0,
            undefined,
            undefined,
            undefined,
            call.retry,
          ),
        },
      },
      ...released,
    ));
}

async function execute(call: StepCall): Promise<Outcome> {
  const { deps, journal, locks, job, logs } = call;
  const task = job.def.task;
  if (task.type !== "model_method") {
    // A shell step is marked running when its process starts; other tasks now.
    await recordRunning(call);
  }
  const variables = stepVariables({
    run: job.run,
    step: job.step,
    siblings: job.siblings,
    item: job.item,
    inputs: job.inputs,
    env: job.env,
  });
  const where = `step ${job.step.id}`;
  switch (task.type) {
    case "model_method": {
      const target = resolveModelTarget(task, deps.models);
      if (!target.extension && (target.type !== "command/shell" || target.method !== "execute")) {
        return {
          status: StepStatus.FAILED,
          reason: `model type \`${target.type}\` has no runnable method \`${target.method}\``,
        };
      }
      const rendered = await renderModelArguments(
        target,
        typeof task.inputs === "object" ? task.inputs : {},
        placementTree(job.placement),
        variables,
        deps.evaluator,
        where,
      );
      const placed = placementRecord(rendered.placement, where);
      // Held while any step of this run acts on the model: given back when the
      // last of them ends, so other runs wait only for the steps, not the run.
      await locks.acquire(target.lock, job.step.id, job.signal);
      if (target.extension) {
        // Nothing of a step happens before what the run recorded earlier is on disk (0034).
        await journal.flushed();
        if (job.executor && job.executor.type !== deps.executor.name) {
          return {
            status: StepStatus.FAILED,
            reason: `model type \`${target.type}\` comes from an extension: its methods run ` +
              `in swamp's own sandbox on the host, not in the ${job.executor.type} executor ` +
              "(remove the executor block for this step)",
          };
        }
        return await runExtensionStep({
          deps,
          target,
          args: rendered.args,
          rawInputs: task.inputs,
          runId: job.run.id,
          stepId: job.step.id,
          attempt: call.attempt,
          mask: journal.mask,
          remote: isPlaced(placed),
          runShell: (args, extension) => runShell(call, args, placed, extension),
        });
      }
      return await runShell(call, rendered.args, placed);
    }
    case "assert": {
      const [result] = await (deps.evaluator?.evaluate([task.expr], variables) ??
        Promise.reject(new Error("assert needs an expression evaluator")));
      if (!result.ok) return { status: StepStatus.FAILED, reason: `assert: ${result.error}` };
      if (result.value === true) return { status: StepStatus.SUCCEEDED, reason: "" };
      const message = await renderTemplate(task.message, variables, deps.evaluator, where);
      logs.line("system", `assertion failed: ${String(message)}`);
      return { status: StepStatus.FAILED, reason: `assertion failed: ${String(message)}` };
    }
    case "workflow": {
      if (!deps.runChild) {
        return { status: StepStatus.FAILED, reason: "nested workflows cannot run here" };
      }
      const inputs = await renderTemplate(task.inputs ?? {}, variables, deps.evaluator, where);
      await journal.flushed();
      if (journal.mask && journal.mask.applyDeep(inputs) !== inputs) {
        // The nested run's record keeps its inputs: a secret there would be stored in plain text.
        return {
          status: StepStatus.FAILED,
          reason: "a secret (vault.get) cannot be a nested workflow's input, which its run " +
            "records; call vault.get in the nested workflow instead",
        };
      }
      const child = await deps.runChild({
        parent: job.run,
        parentStepId: job.step.id,
        workflow: task.workflowIdOrName,
        inputs: inputs as Record<string, unknown>,
        resumeRunId: job.step.childRunId || undefined,
        onCreated: async (childRunId) => {
          if (childRunId === job.step.childRunId) return;
          await journal.append({
            reason: `nested run ${childRunId}`,
            payload: {
              case: "stepStatusChanged",
              value: create(StepStatusChangedSchema, {
                stepId: job.step.id,
                from: StepStatus.RUNNING,
                to: StepStatus.RUNNING,
                childRunId,
              }),
            },
          });
        },
      }, job.signal);
      if (child.status === RunStatus.SUSPENDED) {
        logs.line("system", `nested run ${child.id} waits for approval`);
        return {
          status: StepStatus.WAITING_APPROVAL,
          reason: `nested run ${child.id} waits for approval`,
        };
      }
      logs.line("system", `nested run ${child.id} ended ${RunStatus[child.status].toLowerCase()}`);
      const status = child.status === RunStatus.SUCCEEDED
        ? StepStatus.SUCCEEDED
        : child.status === RunStatus.CANCELLED
        ? StepStatus.CANCELLED
        : StepStatus.FAILED;
      return { status, reason: `nested run ${child.id}: ${RunStatus[child.status].toLowerCase()}` };
    }
    case "manual_approval":
      // The engine reaches gates itself (engine/gate_steps.ts); nothing runs for one.
      throw new Error(`gate ${job.step.id} was started as if it ran something`);
  }
}

export { cancelStage, stepChange, stepDraft } from "./step_events.ts";
