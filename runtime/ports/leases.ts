// Leases: which worker runs a step right now, fenced by an epoch (DESIGN §10).
// A step dispatched to a remote worker takes a lease; every message about it
// names the lease's epoch, and a message with an epoch older than the step's
// current lease is refused (the stale worker is told to kill what it runs).
// Renewals change only the lease's expiry, never a run's event log.

/** One dispatch of one step (one attempt) to one worker. */
export interface Lease {
  /**
   * `<runId>/<stepId>#<epoch>.<nonce>`: names the step and the epoch, so nothing else is needed to
   * find it. The nonce, random per acquire, keeps ids unique even if a store loses its newest lease
   * in a machine crash and hands out the same epoch again (see LeaseStore).
   */
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
 * when several processes (several `swamp serve` on one store) use it.
 *
 * Durability: every change must survive a crash of the process that made it.
 * A mark-written must also survive a crash of the machine ("has written"
 * decides between re-dispatch and failure). An acquire need not: a store that
 * loses it may hand the same epoch out again, but never the same id (each
 * acquire draws a new nonce), and every check compares whole ids, so a worker
 * still holding the lost lease is refused as stale all the same. A renewal or
 * a release lost to a machine crash only moves when the lease expires.
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
    id: leaseId(request.runId, request.stepId, epoch, newLeaseNonce()),
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

/** Eight random hex digits. */
export function newLeaseNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The id of a step's lease of `epoch` drawn with `nonce`. An empty nonce
 * gives the form leases had before nonces (`<runId>/<stepId>#<epoch>`), which
 * stores still read.
 */
export function leaseId(runId: string, stepId: string, epoch: bigint, nonce: string): string {
  return nonce === "" ? `${runId}/${stepId}#${epoch}` : `${runId}/${stepId}#${epoch}.${nonce}`;
}

/** The parts of a lease id, or undefined when it is not one. */
export function parseLeaseId(
  id: string,
): { runId: string; stepId: string; epoch: bigint; nonce: string } | undefined {
  const match = /^([^/]+)\/(.+)#([1-9][0-9]*)(?:\.([0-9a-f]{8}))?$/.exec(id);
  if (!match) return undefined;
  return { runId: match[1], stepId: match[2], epoch: BigInt(match[3]), nonce: match[4] ?? "" };
}
