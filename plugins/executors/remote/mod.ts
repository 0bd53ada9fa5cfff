// The remote executor: runs each step on a worker that dialled in to this
// orchestrator (`swamp worker connect`), through the worker hub
// (runtime/services/workers). It places the step, follows it under its lease,
// re-dispatches a lost worker's step that wrote nothing, and fails one that
// had written (the write-then-fail rule). See README.md beside this file.
import type { Executor, RecordedProcess, StepWork } from "../../../runtime/mod.ts";
import { EXECUTOR_API_VERSION } from "../../../runtime/mod.ts";
import { dispatchRemote } from "./dispatch.ts";
import type { RemoteOptions } from "./options.ts";
import { reapRemote } from "./reap.ts";

export type { RemoteOptions, WorkerDispatcher } from "./options.ts";

export function createRemoteExecutor(options: RemoteOptions): Executor {
  const settings = {
    dispatcher: options.dispatcher,
    redispatchLimit: options.redispatchLimit ?? 3,
  };
  return {
    apiVersion: EXECUTOR_API_VERSION,
    name: "remote",
    placesSteps: true,
    // Cancels reach the worker, whose own executor stops the step. Limits are sent, but only a
    // worker's docker executor enforces them (a loopback one ignores them, as loopback does here).
    features: { streamsLogs: true, canCancel: true, resourceLimits: false },
    dispatch: (step: StepWork, signal: AbortSignal) => dispatchRemote(settings, step, signal),
    reap: (process: RecordedProcess) => reapRemote(settings.dispatcher, process),
  };
}
