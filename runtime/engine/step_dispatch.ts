// A step's command through its executor: where it runs (host slot, spool,
// placement on a worker), and each event the executor reports recorded as
// the run's events and log lines (step_runner.ts decides what to run).
import { create, type JsonObject } from "@bufbuild/protobuf";
import { PlacementSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { RecordedProcess } from "../ports/executor.ts";
import type { Placement, Run, Step, StepRetry } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { ExecutorBlock, Step as StepDef } from "../workflow/schema.ts";
import type { Executor, StepEvent, StepWork } from "../ports/executor.ts";
import type { RunJournal } from "../run/journal.ts";
import type { SlotLease } from "../ports/step_slots.ts";
import { StepStatus } from "../run/status.ts";
import type { EngineDeps } from "./deps.ts";
import type { AdoptedStep } from "./takeover.ts";
import { placementFor, type PlacementTemplates } from "./placement.ts";
import type { LockKeeper } from "./locks.ts";
import type { LogWriter } from "./logs.ts";
import { prepareSpool, releaseSpool, spoolMark } from "./step_spool.ts";
import { boundedText } from "../exec/mod.ts";
import { cancelStage, stepChange, workerWait } from "./step_events.ts";
import { takeHostSlot } from "./host_slots.ts";
import { durationMs, shellWork } from "./shell_task.ts";
import { durationText } from "../text/duration.ts";
import { sha256Hex } from "../text/hash.ts";

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
  /** Told when the step is dispatched to a worker (it then runs off this host). */
  onRemote?: () => void;
}

export type Outcome = {
  status: StepStatus;
  reason: string;
  exitCode?: number;
  outputs?: JsonObject;
};

/** One started step and what it works with; `slot` is its host slot once it has one. */
export interface StepCall {
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
export async function recordRunning(
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

export async function runShell(
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
    job.onRemote?.();
    // The repository's directory is not on the worker: it runs in its scratch dir
    // unless the step names one. A queued step holds no host slot: it runs elsewhere.
    if (typeof args.workingDir !== "string") work.cwd = undefined;
    // Each retry is a new attempt to the workers too: its own lease, never a stale one's.
    work.attempt = call.attempt;
    // Taken over from a dead owner instance: follow the lease its worker still holds (0027).
    const adopt = deps.adoptLeases?.get(job.step.id);
    if (adopt) {
      deps.adoptLeases!.delete(job.step.id);
      work.adoptLease = adopt.leaseId;
    }
    let credentialSha256 = "";
    if (extension) {
      work.extension = extension;
      credentialSha256 = await adoptCredential(deps, adopt, work);
    }
    return await dispatchShell(call, args, placed, placement.executor, work, credentialSha256);
  }
  call.slot = await takeHostSlot(
    deps.hostSlots,
    call.journal,
    job.step.id,
    job.signal,
    deps.pollMs,
  );
  work.spool = prepareSpool(deps.store, job.run.id, job.step.id, call.attempt);
  return await dispatchShell(call, args, placed, placement.executor, work);
}

/**
 * The SHA-256 of the capability credential a placed extension step's worker
 * holds, recorded with its placement: this dispatch's own, or, for a step
 * adopted from a dead owner, the one that owner issued, which this instance's
 * grant then accepts (0029). Empty when an adopted step's record has none.
 */
async function adoptCredential(
  deps: EngineDeps,
  adopt: AdoptedStep | undefined,
  work: StepWork,
): Promise<string> {
  const credential = work.env.SWAMP_CAPABILITY_TOKEN ?? "";
  if (!adopt) return credential ? await sha256Hex(credential) : "";
  const adopted = adopt.credentialSha256;
  if (adopted && credential) await deps.extensionMethods?.adopt?.(credential, adopted);
  return adopted;
}

async function dispatchShell(
  call: StepCall,
  args: Record<string, unknown>,
  placed: Placement | undefined,
  executor: Executor,
  work: StepWork,
  credentialSha256 = "",
): Promise<Outcome> {
  const { deps, journal, job, logs } = call;
  // Nothing of a step happens before what the run recorded earlier is on disk (0034): waited for
  // last, once the step is ready to go, so the flush of the step before overlaps its preparing.
  await journal.flushed();
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
            credentialSha256,
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
      case "output": {
        logs.line(event.stream, event.line, spoolMark(work.spool, event.stream, event.spoolOffset));
        // Read the step's output no faster than the store keeps it (bounded memory).
        const full = logs.room();
        if (full) await full;
        break;
      }
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
