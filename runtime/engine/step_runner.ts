import { create, type JsonObject } from "@bufbuild/protobuf";
import { StepStatusChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { PlacementSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { RecordedProcess } from "../ports/executor.ts";
import type { Placement, Run, Step, StepRetry } from "../../proto/gen/swamp/v1/run_pb.ts";
import { SwampError } from "../errors/mod.ts";
import { renderTemplate } from "../expressions/template.ts";
import type { Executor, StepEvent, StepWork } from "../ports/executor.ts";
import type { RunJournal } from "../run/journal.ts";
import { isOwnershipLost } from "../run/fencing.ts";
import type { SlotLease } from "../ports/step_slots.ts";
import { RunStatus, StepStatus } from "../run/status.ts";
import type { Step as StepDef } from "../workflow/schema.ts";
import type { EngineDeps } from "./deps.ts";
import { stepVariables } from "./identity.ts";
import {
  isPlaced,
  placementFor,
  placementRecord,
  type PlacementTemplates,
  placementTree,
} from "./placement.ts";
import type { ExecutorBlock } from "../workflow/schema.ts";
import type { LockKeeper } from "./locks.ts";
import { LogWriter } from "./logs.ts";
import { prepareSpool, releaseSpool, spoolMark } from "./step_spool.ts";
import { recordWarning } from "./warnings.ts";
import { boundedText } from "../exec/mod.ts";
import { cancelStage, stepChange, stepOutputs, workerWait } from "./step_events.ts";
import { takeHostSlot } from "./host_slots.ts";
import { durationMs, resolveModelTarget, shellWork } from "./shell_task.ts";
import { renderModelArguments } from "./model_args.ts";
import { runExtensionStep } from "./extension_step.ts";
import { durationText } from "../text/duration.ts";
import { sleepOn } from "../ports/clock.ts";
import {
  isRetryable,
  retryPolicy,
  retryReason,
  retryState,
  retryWait,
  retryWaitOver,
} from "./retry.ts";

export interface StepRun {
  run: Run;
  step: Step;
  siblings: readonly Step[];
  def: StepDef;
  inputs: Record<string, unknown>;
  env: Record<string, string>;
  item?: { name: string; value: unknown };
  signal: AbortSignal;
  /** Where the step runs: the innermost `executor:` of step, job and workflow. */
  executor?: ExecutorBlock;
  /** `target` and `labels` as written, evaluated when the step starts. */
  placement?: PlacementTemplates;
}

type Outcome = { status: StepStatus; reason: string; exitCode?: number; outputs?: JsonObject };

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
    attempt: Math.max(job.run.attempt, 1, job.step.attempt > 0 ? job.step.attempt + 1 : 0),
  };
  try {
    await runAndRecord(call);
  } finally {
    call.slot?.release();
  }
}

/** One started step and what it works with; `slot` is its host slot once it has one. */
interface StepCall {
  deps: EngineDeps;
  journal: RunJournal;
  locks: LockKeeper;
  job: StepRun;
  logs: LogWriter;
  slot?: SlotLease;
  /** The status this runner has recorded for the step: what its end is a transition from. */
  recorded: StepStatus;
  /** The step's attempt number now: the run's, plus one per retry and per re-dispatch. */
  attempt: number;
  /** Where a step with `retry:` is in its attempts. */
  retry?: StepRetry;
}

/** Records the step running (with what it started, if anything). */
async function recordRunning(
  call: StepCall,
  process?: RecordedProcess,
  placed?: Placement,
  attempt?: number,
): Promise<void> {
  const change = stepChange(
    call.job.step.id,
    call.recorded === StepStatus.QUEUED ? StepStatus.QUEUED : StepStatus.PENDING,
    StepStatus.RUNNING,
    0,
    process,
    placed,
    attempt ?? call.attempt,
    call.retry,
  );
  const written = await call.journal.append(
    // A step that waited for a worker waits no more.
    ...(call.recorded === StepStatus.QUEUED ? [workerWait(call.job.step.id, "")] : []),
    { payload: { case: "stepStatusChanged", value: change } },
  );
  if (written.length > 0) call.recorded = StepStatus.RUNNING;
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
  // The step's end and, if it was the last of the run on its model, the lock given back: one write.
  await locks.stepEnded(job.step.id, (released) =>
    journal.append(
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

async function runShell(
  call: StepCall,
  args: Record<string, unknown>,
  placed: Placement | undefined,
  extension?: StepWork["extension"],
): Promise<Outcome> {
  const { deps, job } = call;
  const placement = placementFor(
    deps,
    job.executor,
    job.run,
    job.step,
    placed,
    job.placement?.queueTimeoutMs,
  );
  const work = placement.complete(shellWork(args, {
    repoRoot: deps.repoRoot,
    env: placement.env,
    runId: job.run.id,
    stepId: job.step.id,
    timeoutMs: durationMs(job.def.timeout),
    graceMs: deps.graceMs,
    outputLimitBytes: deps.outputLimitBytes,
  }));
  if (placement.remote) {
    // The repository's directory is not on the worker: it runs in its scratch dir
    // unless the step names one. A queued step holds no host slot: it runs elsewhere.
    if (typeof args.workingDir !== "string") work.cwd = undefined;
    // Each retry is a new attempt to the workers too: its own lease, never a stale one's.
    work.attempt = call.attempt;
    // Taken over from a dead owner instance: follow the lease its worker still holds (0027).
    const adopt = deps.adoptLeases?.get(job.step.id);
    if (adopt) {
      deps.adoptLeases!.delete(job.step.id);
      work.adoptLease = adopt;
    }
    if (extension) work.extension = extension;
    return await dispatchShell(call, args, placed, placement.executor, work);
  }
  call.slot = await takeHostSlot(
    deps.hostSlots,
    call.journal,
    job.step.id,
    job.signal,
    deps.pollMs,
  );
  work.spool = await prepareSpool(deps.store, job.run.id, job.step.id, call.attempt);
  return await dispatchShell(call, args, placed, placement.executor, work);
}

async function dispatchShell(
  call: StepCall,
  args: Record<string, unknown>,
  placed: Placement | undefined,
  executor: Executor,
  work: StepWork,
): Promise<Outcome> {
  const { deps, journal, job, logs } = call;
  const started = deps.clock.now().getTime();
  let exited: Extract<StepEvent, { type: "exited" }> | undefined;
  // A remote step's `started` comes just before its `placed`: recorded together.
  let remoteStart: RecordedProcess | undefined;
  let queuedReason = "";
  for await (const event of executor.dispatch(work, job.signal)) {
    if (remoteStart && event.type !== "placed") {
      await recordRunning(call, remoteStart, placed);
      remoteStart = undefined;
    }
    switch (event.type) {
      case "queued":
        if (event.reason !== queuedReason && !job.signal.aborted) {
          queuedReason = event.reason;
          await recordQueued(call, event.reason, placed);
        }
        break;
      case "placed":
        queuedReason = "";
        await recordRunning(
          call,
          remoteStart,
          create(PlacementSchema, {
            target: placed?.target ?? "",
            labels: placed?.labels ?? {},
            workerId: remoteStart?.workerId ?? "",
            workerName: event.worker,
            leaseId: event.leaseId,
            leaseEpoch: event.epoch,
          }),
          event.attempt,
        );
        remoteStart = undefined;
        logs.line(
          "system",
          `placed on worker ${event.worker} (lease ${event.leaseId}, attempt ${event.attempt})`,
        );
        break;
      case "redispatched":
        queuedReason = "";
        logs.line("system", `redispatched as attempt ${event.attempt}: ${event.reason}`);
        await recordRedispatched(call, event.attempt, event.reason);
        break;
      case "started":
        if (event.process.leaseId) remoteStart = event.process;
        else await recordRunning(call, event.process, placed);
        break;
      case "output":
        logs.line(event.stream, event.line, spoolMark(work.spool, event.stream, event.spoolOffset));
        // Read the step's output no faster than the store keeps it (bounded memory).
        await logs.room();
        break;
      case "cancelStage":
        if (!job.signal.aborted) {
          // A timeout stops the step the same way, but nobody cancelled the run.
          logs.line("system", `timeout: ${event.stage}: ${event.detail}`);
          break;
        }
        await journal.append({
          payload: {
            case: "cancelStageReached",
            value: {
              $typeName: "swamp.v1.CancelStageReached",
              stage: cancelStage(event.stage, job.step.id, event.detail, deps.clock.now()),
            },
          },
        });
        break;
      case "exited":
        exited = event;
        break;
    }
  }
  if (!exited) throw new Error("the executor ended without reporting an exit");
  await releaseSpool(work.spool, logs);
  // Masked before it is cut, so a secret at the cut is not left half in plain text.
  const stdout = boundedText(
    journal.mask?.apply(exited.stdout) ?? exited.stdout,
    work.outputLimitBytes,
  );
  const outputs: JsonObject = {
    exitCode: exited.exitCode,
    stdout: stdout.text,
    stdoutTruncated: exited.stdoutTruncated || stdout.cut,
    durationMs: deps.clock.now().getTime() - started,
  };
  if (exited.error) logs.line("system", exited.error);
  if (exited.cancelled) {
    return {
      status: StepStatus.CANCELLED,
      reason: "cancelled",
      exitCode: exited.exitCode,
      outputs,
    };
  }
  if (exited.timedOut) {
    return {
      status: StepStatus.FAILED,
      reason: `step_timeout: the step ran longer than its timeout of ${
        durationText(work.timeoutMs ?? 0)
      } and was stopped (interrupted, then killed after the grace period)`,
      exitCode: exited.exitCode,
      outputs,
    };
  }
  if (exited.outOfMemory) outputs.outOfMemory = true;
  if (exited.error) {
    const reason = exited.errorCode ? `${exited.errorCode}: ${exited.error}` : exited.error;
    return { status: StepStatus.FAILED, reason, exitCode: exited.exitCode, outputs };
  }
  if (exited.exitCode !== 0 && args.ignoreExitCode !== true) {
    const how = exited.signal
      ? `killed by ${exited.signal}`
      : `exited with status ${exited.exitCode}`;
    return { status: StepStatus.FAILED, reason: how, exitCode: exited.exitCode, outputs };
  }
  return { status: StepStatus.SUCCEEDED, reason: "", exitCode: exited.exitCode, outputs };
}

/** A remote step waits for a worker, and why: status `queued`, the reason shown with it. */
async function recordQueued(
  call: StepCall,
  reason: string,
  placed: Placement | undefined,
): Promise<void> {
  const from = call.recorded;
  const written = await call.journal.append(
    {
      reason: `queued: ${reason}`,
      payload: {
        case: "stepStatusChanged",
        value: stepChange(call.job.step.id, from, StepStatus.QUEUED, 0, undefined, placed),
      },
    },
    workerWait(call.job.step.id, reason),
  );
  if (written.length > 0) call.recorded = StepStatus.QUEUED;
}

/** A lost worker's step is sent again: back to `queued`, as the next attempt, with why. */
async function recordRedispatched(call: StepCall, attempt: number, reason: string) {
  call.attempt = attempt;
  const written = await call.journal.append({
    reason: `redispatched as attempt ${attempt}: ${reason}`,
    payload: {
      case: "stepStatusChanged",
      value: stepChange(
        call.job.step.id,
        call.recorded,
        StepStatus.QUEUED,
        0,
        undefined,
        undefined,
        attempt,
        call.retry,
      ),
    },
  });
  if (written.length > 0) call.recorded = StepStatus.QUEUED;
}

export { cancelStage, stepChange, stepDraft } from "./step_events.ts";
