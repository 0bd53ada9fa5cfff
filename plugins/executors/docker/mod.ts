// The Docker executor: runs each step in its own container through the
// engine's API (see README.md beside this file).
import type { Executor, RecordedProcess, StepWork } from "../../../runtime/mod.ts";
import { EXECUTOR_API_VERSION } from "../../../runtime/mod.ts";
import { dispatchContainer } from "./dispatch.ts";
import { client, reachable, socketPath } from "./engine.ts";
import { confirmRecordedGone, reapRecorded, reapRun } from "./reap.ts";
import { dockerSettings } from "./settings.ts";

export { OWNED_LABEL, RUN_LABEL, STEP_LABEL } from "./spec.ts";

/**
 * Resolves when the engine at `socket` (default DOCKER_HOST, else the
 * standard socket) answers; throws how to start it otherwise (code
 * executor_unavailable).
 */
export async function checkEngine(socket?: string): Promise<void> {
  const path = socketPath(socket);
  await reachable(await client(path), path);
}

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
    apiVersion: EXECUTOR_API_VERSION,
    name: "docker",
    features: { streamsLogs: true, canCancel: true, resourceLimits: true },
    settings: dockerSettings,
    runsOnWorkers: true,
    dispatch: (step: StepWork, signal: AbortSignal) => dispatchContainer(step, signal, dispatch),
    reap: (process: RecordedProcess) => reapRecorded(process, options.socket),
    reapRun: (runId: string) => reapRun(runId, options.socket),
    confirmGone: (process: RecordedProcess) => confirmRecordedGone(process, options.socket),
  };
}
