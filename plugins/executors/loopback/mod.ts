// The loopback executor: runs each step as a local process in its own
// session and process group (see README.md beside this file).

import type { Executor, RecordedProcess, StepWork } from "../../../runtime/mod.ts";
import { EXECUTOR_API_VERSION } from "../../../runtime/mod.ts";
import { dispatchStep } from "./dispatch.ts";
import { confirmRecordedGone } from "./gone.ts";
import { reapRecorded } from "./reap.ts";
import { loopbackSettings } from "./settings.ts";
import { spawnMethod, type SpawnPreference } from "./session_spawn.ts";

export interface LoopbackOptions {
  /** The shell for `{script}` commands, run as `<shell> -c <script>`. Default "/bin/sh". */
  shell?: string;
  /** PATH given to a step whose env has none. Default: this process's PATH, else a standard one. */
  defaultPath?: string;
  /** Longer output lines are split into pieces of this many characters. Default 65536. */
  maxLineChars?: number;
  /** After SIGKILL, how long to wait for the group to be confirmed empty. Default 5000 ms. */
  killWaitMs?: number;
  /** reap(): wait between SIGTERM and SIGKILL (a record carries no grace). Default 2000 ms. */
  reapGraceMs?: number;
  /**
   * How a step gets its own session: `auto` (default) uses posix_spawn with
   * POSIX_SPAWN_SETSID when the C library can be reached, else setsid(1);
   * `setsid` always execs setsid(1) first.
   */
  spawn?: SpawnPreference;
}

const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function createLoopbackExecutor(options: LoopbackOptions = {}): Executor {
  let hostPath: string | undefined;
  try {
    hostPath = Deno.env.get("PATH");
  } catch {
    hostPath = undefined; // no env permission
  }
  const dispatch = {
    shell: options.shell ?? "/bin/sh",
    defaultPath: options.defaultPath ?? hostPath ?? STANDARD_PATH,
    maxLineChars: options.maxLineChars ?? 64 * 1024,
    killWaitMs: options.killWaitMs ?? 5000,
    spawnMethod: spawnMethod(options.spawn ?? "auto"),
  };
  const reap = { graceMs: options.reapGraceMs ?? 2000, killWaitMs: dispatch.killWaitMs };
  return {
    apiVersion: EXECUTOR_API_VERSION,
    name: "loopback",
    features: { streamsLogs: true, canCancel: true, resourceLimits: false },
    settings: loopbackSettings,
    runsOnWorkers: true,
    dispatch: (step: StepWork, signal: AbortSignal) => dispatchStep(step, signal, dispatch),
    reap: (process: RecordedProcess) => reapRecorded(process, reap),
    confirmGone: confirmRecordedGone,
  };
}
