// What the remote executor is built from: the hub it dispatches through and
// how often a lost worker's step may be sent again.
import type { DispatchEvent, DispatchRequest, KillOutcome } from "../../../runtime/mod.ts";

/** What the remote executor needs of the hub (WorkerHub has both, in `swamp serve`). */
export interface WorkerDispatcher {
  dispatch(request: DispatchRequest, signal: AbortSignal): AsyncIterable<DispatchEvent>;
  /** Kills a lease's step on its worker (a reap). */
  killLease(workerId: string, leaseId: string, reason: string): Promise<KillOutcome>;
}

export interface RemoteOptions {
  dispatcher: WorkerDispatcher;
  /**
   * How many times a step whose worker was lost before it wrote anything is
   * sent again (each time as the next attempt, under a new lease). Default 3.
   */
  redispatchLimit?: number;
}
