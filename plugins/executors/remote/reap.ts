// reap() for a remote step: the process runs on a worker, so the orchestrator
// cannot signal it; it asks the hub to kill the step's lease on that worker.
import type { RecordedProcess } from "../../../runtime/mod.ts";
import type { WorkerDispatcher } from "./options.ts";

/** One line per action, for the reconcile report. */
export async function reapRemote(
  dispatcher: WorkerDispatcher,
  process: RecordedProcess,
): Promise<string[]> {
  const { workerId, leaseId, pgid } = process;
  if (!workerId || !leaseId) {
    return [`process ${process.pid} names no worker and lease: not a remote step's, left alone`];
  }
  const outcome = await dispatcher.killLease(
    workerId,
    leaseId,
    "reaped: the run that dispatched it is gone",
  );
  switch (outcome) {
    case "sent":
      return [`asked worker ${workerId} to kill lease ${leaseId} (its process group ${pgid})`];
    case "on-reconnect":
      return [
        `worker ${workerId} is not connected: lease ${leaseId} is released, so the worker is ` +
        "refused it and told to kill its step when it reconnects",
      ];
    case "gone":
      return [`lease ${leaseId} on worker ${workerId} is no longer active: nothing to kill`];
  }
}
