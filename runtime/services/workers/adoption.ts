// Adopting a dead owner's remote steps (decision 0027). A worker whose
// orchestrator instance died reconnects to another instance of the same
// store with the leases it still holds; this hub does not follow them (the
// dead instance's sessions were in memory). A held lease that the store says
// is still its step's newest active lease, held by this worker, is the only
// copy of the step: it is parked here (not killed), and what the worker
// resends is buffered until the new owner's engine dispatches that step
// naming the lease (`DispatchRequest.adoptLease`). A worker connected here
// already (it is connected to every instance, 0031) is asked to move the
// lease here instead (AdoptLease). The lease keeps its id and epoch: fencing
// it would stop the very copy that has to continue.
import { EventQueue } from "../../exec/event_queue.ts";
import { multiInstanceProtocol } from "./protocol.ts";
import type { HeldLease } from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { Lease, LeaseStore } from "../../ports/leases.ts";
import { LiveLease, type WorkerSession } from "./session.ts";
import type { DispatchEvent } from "./types.ts";

interface Parked {
  session: WorkerSession;
  lease: LiveLease;
  since: number;
}

interface Waiter {
  bind(parked: Parked): void;
}

export class Adoptions {
  readonly #parked = new Map<string, Parked>();
  readonly #waiting = new Map<string, Waiter>();

  constructor(
    private readonly store: LeaseStore,
    private readonly graceMs: number,
    /** Whether a lease of this run may be adopted here (its owner is dead, or it is this instance). */
    private readonly mayAdopt?: (runId: string) => Promise<boolean>,
  ) {}

  /** The runs that have a lease parked here, waiting for their new owner. */
  parkedRuns(): Set<string> {
    return new Set([...this.#parked.values()].map((p) => p.lease.record.runId));
  }

  /** The held leases of a new session that can be parked: the store's newest, active, this worker's. */
  async parkable(session: WorkerSession, held: readonly HeldLease[]): Promise<Lease[]> {
    const out: Lease[] = [];
    if (!this.mayAdopt) return out;
    for (const h of held) {
      if (session.leases.has(h.leaseId) || session.finished.has(h.leaseId)) continue;
      const stored = await this.store.getLease(h.leaseId).catch(() => undefined);
      if (stored?.state !== "active" || stored.workerId !== session.id) continue;
      if (await this.mayAdopt(stored.runId).catch(() => false)) out.push(stored);
    }
    return out;
  }

  /**
   * Parks the leases `parkable` found (after the welcome is decided): each
   * gets a live lease that accepts the worker's first resent seq as its start
   * and begins with a `started` (the dead owner's hub had acknowledged the
   * real one). Returns their acks for the welcome: 0, so the worker resends
   * everything unacknowledged.
   */
  park(
    session: WorkerSession,
    records: readonly Lease[],
  ): Record<string, bigint> {
    const acked: Record<string, bigint> = {};
    for (const record of records) {
      acked[record.id] = 0n;
      const parked = { session, lease: adopting(session, record), since: Date.now() };
      const waiter = this.#waiting.get(record.id);
      if (waiter) {
        this.#waiting.delete(record.id);
        waiter.bind(parked);
      } else this.#parked.set(record.id, parked);
    }
    this.#sweep();
    return acked;
  }

  /**
   * The adopted step's events: `placed`, then what its worker reports. The
   * worker may not be back yet: it is waited for up to the grace window,
   * after which the dispatch ends as a lost worker's (re-dispatched or failed
   * by the write-then-fail rule, as any lost worker's step).
   */
  async *adopt(
    leaseId: string,
    signal: AbortSignal,
    leasing: { cancelLive(session: WorkerSession, lease: LiveLease, reason: string): void },
    /** The session of a worker connected here, by id. */
    connected: (workerId: string) => WorkerSession | undefined = () => undefined,
  ): AsyncGenerator<DispatchEvent> {
    let parked = this.#parked.get(leaseId);
    this.#parked.delete(leaseId);
    parked ??= await this.#move(leaseId, connected);
    if (!parked) {
      parked = await new Promise<Parked | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiting.delete(leaseId);
          resolve(undefined);
        }, this.graceMs);
        const onAbort = () => {
          clearTimeout(timer);
          this.#waiting.delete(leaseId);
          resolve(undefined);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        this.#waiting.set(leaseId, {
          bind: (p) => {
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            resolve(p);
          },
        });
      });
    }
    if (!parked) {
      const stored = await this.store.getLease(leaseId).catch(() => undefined);
      if (signal.aborted) {
        yield {
          type: "exited",
          exitCode: 130,
          cancelled: true,
          timedOut: false,
          stdout: "",
          stdoutTruncated: false,
        };
        return;
      }
      yield {
        type: "workerLost",
        workerId: stored?.workerId ?? "",
        hasWritten: stored?.hasWritten === true,
        reason: `the worker holding lease ${leaseId} did not reconnect within ${this.graceMs} ms ` +
          "of the takeover",
      };
      return;
    }
    const { session, lease } = parked;
    yield {
      type: "placed",
      workerId: session.id,
      workerName: session.name,
      leaseId: lease.record.id,
      epoch: lease.record.epoch,
    };
    const onAbort = () => leasing.cancelLive(session, lease, "the dispatch was cancelled");
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      yield* lease.events;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Asks a worker connected here that holds the lease to move it here
   * (AdoptLease, protocol 3): it resends what the dead instance had not
   * acknowledged, or reports the lease lost when it no longer holds it.
   */
  async #move(
    leaseId: string,
    connected: (workerId: string) => WorkerSession | undefined,
  ): Promise<Parked | undefined> {
    const stored = await this.store.getLease(leaseId).catch(() => undefined);
    if (stored?.state !== "active") return undefined;
    const session = connected(stored.workerId);
    if (!session || session.protocolVersion < multiInstanceProtocol) return undefined;
    if (session.leases.has(leaseId)) return undefined;
    const lease = adopting(session, stored);
    const { id, epoch, runId, stepId, attempt } = stored;
    if (!session.send({ case: "adopt", value: { leaseId: id, epoch, runId, stepId, attempt } })) {
      session.leases.delete(leaseId);
      return undefined;
    }
    return { session, lease, since: Date.now() };
  }

  /** Parked leases nobody adopted within the grace window are dropped (their events with them). */
  #sweep(): void {
    const now = Date.now();
    for (const [id, parked] of this.#parked) {
      if (now - parked.since > 2 * this.graceMs) this.#parked.delete(id);
    }
  }
}

/**
 * A live lease on `session` for a lease another hub handed out: it accepts
 * the worker's first resent seq as its start and begins with a `started`
 * (the dead owner's hub had acknowledged the real one).
 */
function adopting(session: WorkerSession, record: Lease): LiveLease {
  const lease = new LiveLease(record, new EventQueue<DispatchEvent>());
  lease.adopting = true;
  lease.events.push({
    type: "started",
    process: {
      executor: "",
      pid: 0,
      pgid: 0,
      processStart: "",
      workerId: record.workerId,
      leaseId: record.id,
    },
  });
  session.leases.set(record.id, lease);
  return lease;
}
