// The worker hub's programmatic face for executors: what a dispatch asks
// for and what it yields. The remote executor (plugins/executors/remote)
// turns a step into a DispatchRequest and the events back into StepEvents.
import type { StepEvent, StepWork } from "../../ports/executor.ts";
import type { Placement } from "./placement.ts";

/** One step to run on a worker. */
export interface DispatchRequest {
  /** The step, fully resolved (runId and stepId are in it). */
  work: StepWork;
  /** The step's attempt (1, 2, … for re-dispatches of the same step). */
  attempt: number;
  placement: Placement;
  /**
   * A step taken over from a dead owner instance (0027): follow the lease
   * its worker still holds instead of placing it anew.
   */
  adoptLease?: string;
}

/** The step events a worker's own executor reports (placement events are the hub's). */
export type WorkerStepEvent = Exclude<
  StepEvent,
  { type: "queued" } | { type: "placed" } | { type: "redispatched" }
>;

/**
 * What happens to a dispatched step, in order:
 * - `queued` (zero or more times): no worker can take it yet, and why;
 * - `placed`: a worker took it under a lease;
 * - the executor's StepEvents (`started`, `output`, `cancelStage`, `exited`)
 *   and `wrote` (the step wrote something the orchestrator keeps);
 * - the stream ends after `exited`, or after `workerLost` when the worker
 *   stayed away past the grace window (or its token was revoked or expired):
 *   `hasWritten` says whether the step may be re-dispatched (false) or must
 *   fail the run (true: the write-then-fail rule).
 */
export type DispatchEvent =
  | { type: "queued"; reason: string }
  | { type: "placed"; workerId: string; workerName: string; leaseId: string; epoch: bigint }
  | WorkerStepEvent
  | { type: "wrote"; what: string }
  | { type: "workerLost"; workerId: string; hasWritten: boolean; reason: string };

/** What the hub reports for the server's log (lifecycle lines). */
export type HubEvent =
  | { event: "worker_connected"; workerId: string; name: string; resumed: boolean }
  | { event: "worker_disconnected"; workerId: string; name: string; reason: string }
  | { event: "worker_lost"; workerId: string; name: string; reason: string; leases: number }
  | { event: "worker_refused"; code: string; message: string }
  /** A hello named a known session but not its credential; it is treated as another process. */
  | { event: "worker_session_mismatch"; workerId: string; name: string; reason: string }
  | { event: "worker_draining"; workerId: string; name: string }
  /** A connected worker's session credential was replaced (never the credential itself). */
  | { event: "worker_session_renewed"; workerId: string; name: string }
  | { event: "lease_error"; what: string; message: string };
