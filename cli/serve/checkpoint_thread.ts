// The server thread's side of the checkpoint thread (checkpoint_worker.ts).
import { threadModuleUrl } from "./worker_url.ts";

export type ToCheckpoints = { kind: "start"; path: string; everyMs?: number } | { kind: "stop" };
export type FromCheckpoints =
  | { kind: "started" }
  | { kind: "error"; error: string }
  | { kind: "stopped"; counts: { passive: number; restart: number } };

export interface CheckpointThread {
  /** Resolves once the thread checkpoints (or has failed to start). */
  started(): Promise<void>;
  /** Ends the thread; resolves with the checkpoints it made. */
  stop(): Promise<{ passive: number; restart: number }>;
}

/** How long a stop waits for the thread's answer before ending it regardless. */
const stopWaitMs = 5000;

/** Starts checkpointing the SQLite database at `path` on a thread of its own. */
export function startCheckpointThread(
  path: string,
  onError: (error: string) => void,
  everyMs?: number,
): CheckpointThread {
  const worker = new Worker(threadModuleUrl("checkpoint_worker", import.meta.url), {
    type: "module",
    name: "swamp-checkpoints",
  });
  let stopped: ((counts: { passive: number; restart: number }) => void) | undefined;
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => markStarted = resolve);
  worker.onmessage = (message: MessageEvent<FromCheckpoints>) => {
    const said = message.data;
    if (said.kind === "started") markStarted();
    else if (said.kind === "error") {
      onError(said.error);
      markStarted();
    } else stopped?.(said.counts);
  };
  worker.onerror = (event) => {
    // Without the thread, the store's connections checkpoint once the log is long (schema.ts).
    event.preventDefault();
    onError(String(event.error ?? event.message));
    markStarted();
    stopped?.({ passive: 0, restart: 0 });
  };
  worker.postMessage({ kind: "start", path, everyMs } satisfies ToCheckpoints);
  let stopping: Promise<{ passive: number; restart: number }> | undefined;
  return {
    started: () => started,
    stop() {
      stopping ??= new Promise<{ passive: number; restart: number }>((resolve) => {
        const timeout = setTimeout(() => resolve({ passive: 0, restart: 0 }), stopWaitMs);
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
