// Leases: which worker runs a step right now, fenced by an epoch (DESIGN §10).
// A step dispatched to a remote worker takes a lease; every message about it
// names the lease's epoch, and a message with an epoch older than the step's
// current lease is refused (the stale worker is told to kill what it runs).
// Renewals change only the lease's expiry, never a run's event log.

/** One dispatch of one step (one attempt) to one worker. */
export interface Lease {
  /** `<runId>/<stepId>#<epoch>`: names the step and the epoch, so nothing else is needed to find it. */
  id: string;
  runId: string;
  stepId: string;
  /** The step's attempt this dispatch runs (re-dispatches of a lost worker's step add one). */
  attempt: number;
  /** 1 for the step's first lease, one more for each later one: a newer lease fences every older. */
  epoch: bigint;
  workerId: string;
  createTime: Date;
  /** Renewed by the worker's heartbeats; a lease past it belongs to a lost worker. */
  expireTime: Date;
  /**
   * The step has written something the orchestrator keeps (reported by the
   * executor, later set by the capability service): a lost worker's step is
   * then failed, never re-dispatched (the write-then-fail rule).
   */
  hasWritten: boolean;
  /** Active until released (a newer lease of the step replaces it, whatever its state). */
  state: "active" | "released";
}

export interface AcquireLease {
  runId: string;
  stepId: string;
  attempt: number;
  workerId: string;
  now: Date;
  expireTime: Date;
}

/**
 * Where the orchestrator keeps leases: the newest lease of each step, so an
 * older epoch is simply not there. Every method is one atomic operation, safe
 * when several processes (several `swamp serve` on one store) use it. An
 * acquire and a mark-written must survive a crash of the machine (the epoch
 * fences stale workers; "has written" decides re-dispatch); a renewal or a
 * release may be kept only as durably as the page cache, since losing one
 * only moves when the lease expires.
 */
export interface LeaseStore {
  /**
   * A new active lease of the step with an epoch one above the step's newest
   * lease (1 for its first), which it replaces. Of two callers racing for one
   * step, each gets its own epoch, and only the later one stays current.
   */
  acquireLease(request: AcquireLease): Promise<Lease>;
  /** The lease of that id while it is its step's newest (active or released), else undefined. */
  getLease(id: string): Promise<Lease | undefined>;
  /**
   * Sets expireTime on each lease of `ids` that is active and held by
   * `workerId`; returns the ids it renewed (the rest are no longer that
   * worker's: replaced by a newer epoch, released, or unknown).
   */
  renewLeases(workerId: string, ids: readonly string[], expireTime: Date): Promise<string[]>;
  /** Marks the lease as having written; false (and nothing changes) unless it is active. */
  markLeaseWritten(id: string): Promise<boolean>;
  /** Releases the lease; false (and nothing changes) unless it was active. */
  releaseLease(id: string): Promise<boolean>;
  /** The newest lease of every step that has one, filtered, ordered by run id, then step id. */
  listLeases(
    filter?: { runId?: string; workerId?: string; activeOnly?: boolean },
  ): Promise<Lease[]>;
}

/** The lease an acquire makes: active, nothing written, one epoch above the step's newest. */
export function nextLease(request: AcquireLease, newestEpoch: bigint | undefined): Lease {
  const epoch = (newestEpoch ?? 0n) + 1n;
  return {
    id: leaseId(request.runId, request.stepId, epoch),
    runId: request.runId,
    stepId: request.stepId,
    attempt: request.attempt,
    epoch,
    workerId: request.workerId,
    createTime: request.now,
    expireTime: request.expireTime,
    hasWritten: false,
    state: "active",
  };
}

/** The id of a step's lease of `epoch`. */
export function leaseId(runId: string, stepId: string, epoch: bigint): string {
  return `${runId}/${stepId}#${epoch}`;
}

/** The parts of a lease id, or undefined when it is not one. */
export function parseLeaseId(
  id: string,
): { runId: string; stepId: string; epoch: bigint } | undefined {
  const match = /^([^/]+)\/(.+)#([1-9][0-9]*)$/.exec(id);
  if (!match) return undefined;
  return { runId: match[1], stepId: match[2], epoch: BigInt(match[3]) };
}
