// The executor interface as an extension author sees it: everything an
// executor module in `extensions/executors/` uses, from one module. An
// extension imports only types from here (`import type`), which leaves no
// import to resolve when swamp loads it; the values it needs (zod, the
// settings helper, the process helpers) reach it as the argument of its
// default-exported factory:
//
//   import type { ExecutorApi, Executor } from "SWAMP/runtime/executor_api.ts";
//   export default (api: ExecutorApi): Executor => ({ apiVersion: 1, name: "mine", ... });
//
// See docs/guides/executor-plugins.md.
import * as z from "zod/mini";
import {
  defineExecutorSettings,
  EXECUTOR_API_VERSION,
  supportedExecutorApiVersions,
} from "./ports/executor.ts";
import { isSameProcessAlive, processStartTime } from "./host/mod.ts";

export type {
  CancelStageName,
  ContainerSpec,
  Executor,
  ExecutorFeatures,
  ExecutorSettings,
  GoneCheck,
  RecordedProcess,
  StepContext,
  StepEvent,
  StepSetup,
  StepWork,
} from "./ports/executor.ts";

/** What swamp hands an executor module's factory. */
export interface ExecutorApi {
  /** The interface version of this build (declare the one you wrote for as `apiVersion`). */
  apiVersion: number;
  /** The versions this build can run. */
  supportedApiVersions: readonly number[];
  /** zod/mini, for the settings schema (`z.strictObject({type: z.literal(NAME), ...})`). */
  z: typeof z;
  defineExecutorSettings: typeof defineExecutorSettings;
  /** The OS's start time of a process (Linux: /proc/PID/stat field 22), to tell it from a reused pid. */
  processStartTime: typeof processStartTime;
  /** Whether `pid` still runs and is the process that started at `start`. */
  isSameProcessAlive: typeof isSameProcessAlive;
}

export function executorApi(): ExecutorApi {
  return {
    apiVersion: EXECUTOR_API_VERSION,
    supportedApiVersions: supportedExecutorApiVersions,
    z,
    defineExecutorSettings,
    processStartTime,
    isSameProcessAlive,
  };
}
