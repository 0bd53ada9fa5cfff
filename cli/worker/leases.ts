// The leases a worker holds: each runs its step with the worker's executor
// the assignment names (one of those it offers) and turns the step's events
// into numbered LeaseUpdates. Updates are kept until the orchestrator
// acknowledges them, so after a reconnect the unacknowledged ones are sent
// again and nothing is lost or doubled.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Assignment,
  type LeaseUpdate,
  LeaseUpdateSchema,
} from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import {
  defaultWorkerExecutor,
  type Executor,
  fromRemoteWork,
  type RecordedProcess,
  type StepEvent,
  SwampError,
} from "../../runtime/mod.ts";
import { ScratchDirs } from "./scratch_dirs.ts";
import type { StepRecords } from "./step_records.ts";
import type { WorkerExtensions } from "./extension_steps.ts";

type UpdateKind = MessageInitShape<typeof LeaseUpdateSchema>["kind"];

/**
 * How much of a step's reporting may wait for the orchestrator's ack: past
 * either bound the worker stops reading the step's output until acks come,
 * so a step that prints faster than the orchestrator stores (or while the
 * worker is cut off) blocks on its own output instead of filling the
 * worker's memory.
 */
export const unackedWindow = { updates: 2048, chars: 4 * 1024 * 1024 };

export interface HeldLeaseState<Route = unknown> {
  assignment: Assignment;
  /** Where its updates go: the worker's link to the instance the lease reports to. */
  route?: Route;
  seq: bigint;
  /** Sent and not yet acknowledged, in seq order. */
  unacked: LeaseUpdate[];
  /** The characters of output among them. */
  unackedChars: number;
  /** Wakes the step's reader waiting for room in the window. */
  room?: () => void;
  abort: AbortController;
  /** Told to stop at once (KillLease): nothing more is reported. */
  killed: boolean;
  /** Its step has exited (its last update may still await an ack). */
  finished: boolean;
  /**
   * Stopped by the worker itself, cut off from the orchestrator past the
   * grace window: its exit is reported as worker_lost with this reason.
   */
  fenced?: string;
  /** What its executor started, once it has, and that executor (which can end it at once). */
  started?: { process: RecordedProcess; executor: Executor };
}

export interface LeaseSink<Route = unknown> {
  /** Sends an update now if connected (it is kept for a resend either way). */
  send(update: LeaseUpdate, lease: HeldLeaseState<Route>): void;
  finished(lease: HeldLeaseState<Route>, exited: Extract<StepEvent, { type: "exited" }>): void;
}

export class LeaseBook<Route = unknown> {
  readonly held = new Map<string, HeldLeaseState<Route>>();
  /**
   * How many steps run at once. A worker connected to several orchestrator
   * instances may be assigned more at the same moment (each places by what
   * it knows): the rest hold their lease and wait here for a slot.
   */
  concurrency = Number.POSITIVE_INFINITY;
  #running = 0;
  readonly #scratch: ScratchDirs;
  readonly #waiting: (() => void)[] = [];

  constructor(
    /** The executors this worker offers, by name. */
    private readonly executors: ReadonlyMap<string, Executor>,
    private readonly sink: LeaseSink<Route>,
    workDir: string,
    /** Where running steps are recorded, so a later worker process reaps what this one leaves. */
    private readonly records?: StepRecords,
    /** Runs the methods of extension model types (bundles and the capability proxy). */
    private readonly extensions?: WorkerExtensions,
  ) {
    this.#scratch = new ScratchDirs(workDir);
  }

  /** The worker stops: what was made ahead for the next step goes. */
  close(): void {
    this.#scratch.close();
  }

  /** Leases whose step still runs (or waits for a slot). */
  running(): number {
    return [...this.held.values()].filter((l) => !l.finished).length;
  }

  /** Resolves once a slot is free (false: the lease must end without running). */
  async #slot(lease: HeldLeaseState<Route>): Promise<boolean> {
    const signal = lease.abort.signal;
    // An abort wakes every waiter: each looks again, and this one leaves.
    const wakeAll = () => this.#wakeAll();
    signal.addEventListener("abort", wakeAll, { once: true });
    try {
      while (this.#running >= this.concurrency && !signal.aborted) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      }
    } finally {
      signal.removeEventListener("abort", wakeAll);
    }
    if (signal.aborted) return false;
    this.#running++;
    return true;
  }

  #freeSlot(): void {
    this.#running--;
    this.#wakeAll();
  }

  /** Every waiter looks again; the first to look while a slot is free takes it. */
  #wakeAll(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }

  start(assignment: Assignment, route?: Route): void {
    if (this.held.has(assignment.leaseId)) return;
    const lease: HeldLeaseState<Route> = {
      assignment,
      route,
      seq: 0n,
      unacked: [],
      unackedChars: 0,
      abort: new AbortController(),
      killed: false,
      finished: false,
    };
    this.held.set(assignment.leaseId, lease);
    void this.#run(lease);
  }

  /** Every update of the lease up to `seq` is stored: forget them; drop a finished lease. */
  acked(leaseId: string, seq: bigint): void {
    const lease = this.held.get(leaseId);
    if (!lease) return;
    // In seq order: the acknowledged ones are a prefix (one splice, not a filter per ack).
    let count = 0;
    while (count < lease.unacked.length && lease.unacked[count].seq <= seq) {
      lease.unackedChars -= outputChars(lease.unacked[count]);
      count++;
    }
    if (count > 0) lease.unacked.splice(0, count);
    wakeReader(lease);
    if (lease.finished && lease.unacked.length === 0) this.held.delete(leaseId);
  }

  cancel(leaseId: string): void {
    this.held.get(leaseId)?.abort.abort();
  }

  /**
   * Stops the lease's step at once (SIGKILL to its process group, or its
   * container removed by force), for a stale lease or a reap. Only its exit
   * is still reported: the orchestrator takes it when the lease is current
   * (a reap), refuses it otherwise. A second kill, or one of a lease that
   * has exited, forgets it at once.
   */
  kill(leaseId: string): void {
    const lease = this.held.get(leaseId);
    if (!lease) return;
    if (lease.killed || lease.finished) {
      this.held.delete(leaseId);
      return;
    }
    lease.killed = true;
    wakeReader(lease);
    // Not an abort: that would run the cancel stages and report a cancel.
    endNow(lease);
  }

  /**
   * Cut off from the orchestrator for (almost) its grace window: stops every
   * running step at once (as a kill does), since the orchestrator is about
   * to send it elsewhere or fail it. Its exit is kept for the orchestrator
   * as worker_lost, so a lease it still follows is handled as lost
   * (re-dispatched if it wrote nothing), never as a failure. Returns the
   * fenced leases.
   */
  fence(reason: string, only?: ReadonlySet<string>): string[] {
    const fenced: string[] = [];
    for (const lease of this.held.values()) {
      if (only && !only.has(lease.assignment.leaseId)) continue;
      if (lease.finished || lease.killed || lease.fenced) continue;
      lease.fenced = reason;
      fenced.push(lease.assignment.leaseId);
      wakeReader(lease);
      endNow(lease);
    }
    return fenced;
  }

  cancelAll(): void {
    for (const lease of this.held.values()) lease.abort.abort();
  }

  /** Resolves true once no step runs, false when `ms` pass first. */
  async idle(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.running() > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  }

  #emit(lease: HeldLeaseState<Route>, kind: UpdateKind): void {
    if (lease.killed && kind?.case !== "exited") return;
    const a = lease.assignment;
    lease.seq += 1n;
    const update = create(LeaseUpdateSchema, {
      leaseId: a.leaseId,
      epoch: a.epoch,
      runId: a.runId,
      stepId: a.stepId,
      attempt: a.attempt,
      seq: lease.seq,
      kind,
    });
    lease.unacked.push(update);
    lease.unackedChars += outputChars(update);
    this.sink.send(update, lease);
  }

  /** Waits while the lease's unacknowledged updates fill the window (not once it must end). */
  async #roomFor(lease: HeldLeaseState<Route>): Promise<void> {
    while (
      !lease.killed && !lease.fenced &&
      (lease.unacked.length >= unackedWindow.updates ||
        lease.unackedChars >= unackedWindow.chars)
    ) {
      await new Promise<void>((resolve) => lease.room = resolve);
    }
  }

  async #run(lease: HeldLeaseState<Route>): Promise<void> {
    const a = lease.assignment;
    const name = a.work?.executor || defaultWorkerExecutor;
    const executor = this.executors.get(name);
    // A process step runs in the directory the orchestrator names, else a scratch one; a
    // container step in its image's working directory, as it would on the orchestrator.
    let scratch: string | undefined;
    let exited: Extract<StepEvent, { type: "exited" }> | undefined;
    let recorded = false;
    let forget: (() => void) | undefined;
    if (!await this.#slot(lease)) {
      // Cancelled, killed or fenced while it waited for a slot: it never started.
      exited = {
        type: "exited",
        exitCode: 130,
        cancelled: lease.fenced === undefined,
        timedOut: false,
        stdout: "",
        stdoutTruncated: false,
        ...(lease.fenced ? { error: lease.fenced, errorCode: "worker_lost" } : {}),
      };
      this.#emit(lease, updateOf(exited)!);
      lease.finished = true;
      return this.#ended(lease, exited);
    }
    try {
      if (!executor) {
        // Placement sends a worker only what it offers: an orchestrator that did not know.
        throw new Error(
          `it offers ${[...this.executors.keys()].join(", ")}, not the ${name} executor`,
        );
      }
      if (!a.work?.cwd && !a.work?.container) scratch = this.#scratch.take();
      let work = fromRemoteWork(a, a.work?.cwd || scratch);
      if (work.extension) {
        if (!this.extensions || name !== defaultWorkerExecutor) {
          throw new Error(
            this.extensions
              ? `an extension method runs in swamp's own sandbox, not the ${name} executor`
              : "this worker does not run extension methods",
          );
        }
        const prepared = await this.extensions.prepare(a.leaseId, work);
        work = prepared.work;
        forget = prepared.done;
      }
      for await (const event of executor.dispatch(work, lease.abort.signal)) {
        if (lease.killed && event.type !== "exited") continue;
        if (event.type === "started") {
          lease.started = { process: event.process, executor };
          // Fenced before it had started: it is ended now it has.
          if (lease.fenced) endNow(lease);
          if (this.records) {
            // Recorded before the orchestrator hears of it; a failed write costs only the reap.
            recorded = await this.records.write(a, event.process, scratch).then(
              () => true,
              () => false,
            );
          }
        }
        if (event.type === "exited") {
          exited = lease.fenced === undefined ? event : {
            ...event,
            cancelled: false,
            error: lease.fenced,
            errorCode: "worker_lost",
          };
        }
        const kind = updateOf(event.type === "exited" ? exited! : event);
        if (kind) this.#emit(lease, kind);
        // Not reading on holds the step's output in its pipe: the step waits, not our memory.
        if (event.type === "output") await this.#roomFor(lease);
      }
    } catch (error) {
      exited = {
        type: "exited",
        exitCode: 127,
        cancelled: false,
        timedOut: false,
        stdout: "",
        stdoutTruncated: false,
        error: `the worker could not run the step: ${(error as Error).message}`,
        errorCode: error instanceof SwampError ? error.codeName : "executor_unavailable",
      };
      this.#emit(lease, updateOf(exited)!);
    } finally {
      this.#freeSlot();
      forget?.();
      lease.finished = true;
      if (scratch) await this.#scratch.release(scratch);
      if (recorded) this.records!.remove(a.leaseId);
    }
    this.#ended(lease, exited);
  }

  #ended(
    lease: HeldLeaseState<Route>,
    exited: Extract<StepEvent, { type: "exited" }> | undefined,
  ): void {
    if (exited) this.sink.finished(lease, exited);
    // A killed lease's exit is sent once, not kept for a resend; an acknowledged one is done.
    if (lease.killed || lease.unacked.length === 0) this.held.delete(lease.assignment.leaseId);
  }
}

function outputChars(update: LeaseUpdate): number {
  return update.kind.case === "output" ? update.kind.value.line.length : 0;
}

function wakeReader(lease: HeldLeaseState): void {
  const room = lease.room;
  lease.room = undefined;
  room?.();
}

/**
 * Ends a lease's step at once, reporting no cancel stages: SIGKILL to its
 * process group, or, for a container, its executor's reap (removed by force:
 * the worker may not signal a container's processes itself). A step not
 * started yet is kept from starting.
 */
function endNow(lease: HeldLeaseState): void {
  const started = lease.started;
  if (!started) {
    lease.abort.abort();
    return;
  }
  if (started.process.containerId) {
    void started.executor.reap(started.process).catch(() => {});
    return;
  }
  try {
    Deno.kill(-started.process.pgid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** The update for a step event; undefined for events only placing executors emit. */
function updateOf(event: StepEvent): UpdateKind | undefined {
  switch (event.type) {
    case "started":
      return {
        case: "started",
        value: {
          pid: event.process.pid,
          pgid: event.process.pgid,
          processStart: event.process.processStart,
          containerId: event.process.containerId ?? "",
        },
      };
    case "output":
      return { case: "output", value: { stream: event.stream, line: event.line } };
    case "cancelStage":
      return { case: "cancelStage", value: { stage: event.stage, detail: event.detail } };
    case "exited":
      return {
        case: "exited",
        value: {
          exitCode: event.exitCode,
          signal: event.signal ?? "",
          cancelled: event.cancelled,
          timedOut: event.timedOut,
          stdout: event.stdout,
          stdoutTruncated: event.stdoutTruncated,
          error: event.error ?? "",
          errorCode: event.errorCode ?? "",
          outOfMemory: event.outOfMemory ?? false,
        },
      };
    default:
      return undefined;
  }
}
