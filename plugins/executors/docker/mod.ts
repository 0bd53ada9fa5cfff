// The Docker executor: runs each step in its own container through the
// engine's API (see README.md beside this file).
import type { Executor, RecordedProcess, StepWork } from "../../../runtime/mod.ts";
import { dispatchContainer } from "./dispatch.ts";
import { confirmRecordedGone, reapRecorded, reapRun } from "./reap.ts";
import { dockerSettings } from "./settings.ts";

export { OWNED_LABEL, RUN_LABEL, STEP_LABEL } from "./spec.ts";

export interface DockerOptions {
  /** Image for steps that name none (the contract suite uses this). */
  defaultImage?: string;
  /** Engine socket when a step names none; default DOCKER_HOST, else /var/run/docker.sock. */
  socket?: string;
  /** Longer output lines are split into pieces of this many characters. Default 65536. */
  maxLineChars?: number;
}

export function createDockerExecutor(options: DockerOptions = {}): Executor {
  const dispatch = {
    defaultImage: options.defaultImage,
    socket: options.socket,
    maxLineChars: options.maxLineChars ?? 64 * 1024,
  };
  return {
    name: "docker",
    features: { streamsLogs: true, canCancel: true, resourceLimits: true },
    settings: dockerSettings,
    dispatch: (step: StepWork, signal: AbortSignal) => dispatchContainer(step, signal, dispatch),
    reap: (process: RecordedProcess) => reapRecorded(process, options.socket),
    reapRun: (runId: string) => reapRun(runId, options.socket),
    confirmGone: (process: RecordedProcess) => confirmRecordedGone(process, options.socket),
  };
}
