// The server thread's side of the checkpoint thread (checkpoint_worker.ts).
import type { CheckpointCounts } from "../../plugins/stores/sqlite/mod.ts";
import { threadModuleUrl } from "./worker_url.ts";

const noCounts: CheckpointCounts = { passive: 0, restart: 0, failed: 0 };

/** Tuning for tests; a server uses the defaults of checkpointEvery. */
export interface CheckpointTuning {
  everyMs?: number;
  restartAtPages?: number;
}

export type ToCheckpoints =
  | { kind: "start"; path: string; tuning: CheckpointTuning }
  | { kind: "stop" };
export type FromCheckpoints =
  | { kind: "started" }
  | { kind: "error"; error: string }
  /** Without counts when it never started checkpointing. */
  | { kind: "stopped"; counts?: CheckpointCounts };

export interface CheckpointThread {
  /** Resolves once the thread checkpoints (or has failed to start). */
  started(): Promise<void>;
  /** Ends the thread; resolves with the checkpoints it made. */
  stop(): Promise<CheckpointCounts>;
}

/** How long a stop waits for the thread's answer before ending it regardless. */
const stopWaitMs = 5000;

/** Starts checkpointing the SQLite database at `path` on a thread of its own. */
export function startCheckpointThread(
  path: string,
  onError: (error: string) => void,
  tuning: CheckpointTuning = {},
): CheckpointThread {
  const worker = new Worker(threadModuleUrl("checkpoint_worker", import.meta.url), {
    type: "module",
    name: "swamp-checkpoints",
  });
  let stopped: ((counts: CheckpointCounts) => void) | undefined;
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => markStarted = resolve);
  worker.onmessage = (message: MessageEvent<FromCheckpoints>) => {
    const said = message.data;
    if (said.kind === "started") markStarted();
    else if (said.kind === "error") {
      onError(said.error);
      markStarted();
    } else stopped?.(said.counts ?? noCounts);
  };
  let dead = false;
  worker.onerror = (event) => {
    // Without the thread, the store's connections checkpoint once the log is long (schema.ts).
    event.preventDefault();
    dead = true;
    onError(String(event.error ?? event.message));
    markStarted();
    stopped?.(noCounts);
  };
  worker.postMessage({ kind: "start", path, tuning } satisfies ToCheckpoints);
  let stopping: Promise<CheckpointCounts> | undefined;
  return {
    started: () => started,
    stop() {
      stopping ??= new Promise<CheckpointCounts>((resolve) => {
        // A thread that died answers nothing.
        if (dead) return resolve(noCounts);
        const timeout = setTimeout(() => resolve(noCounts), stopWaitMs);
        stopped = (counts) => {
          clearTimeout(timeout);
          resolve(counts);
        };
        worker.postMessage({ kind: "stop" } satisfies ToCheckpoints);
      }).finally(() => worker.terminate());
      return stopping;
    },
  };
}
