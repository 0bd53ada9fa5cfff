// The server thread's side of the run thread (run_worker.ts): hands it runs,
// relays pokes and stop, and feeds the change feed with what it stored.
import { fromBinary } from "@bufbuild/protobuf";
import { LogLineSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { ChangeFeed } from "../../runtime/mod.ts";
import type { ToServer, ToWorker } from "./run_messages.ts";

export interface RunThreadEvents {
  runStarted(runId: string): void;
  runSettled(runId: string, error?: string): void;
  /** The run thread failed outside any run (it is then ended). */
  failed(error: unknown): void;
}

export interface RunThread {
  supervise(runId: string, resumeInputs?: Record<string, unknown>): void;
  poke(): void;
  /** Runs it executes now. */
  owned(): string[];
  /** Resolves when every run it was given has settled (or at once when none runs). */
  idle(): Promise<void>;
  /** Cancels what still runs (as a supervisor asked to stop), waits for it, ends the thread. */
  stop(): Promise<void>;
}

/**
 * The module of the run thread: beside this file in the sources, or the
 * bundle's second entry point (cli/swamp bundles cli/serve/run_worker.ts too,
 * which lands in serve/ beside the chunk that holds this code).
 */
function workerUrl(): string {
  if (!import.meta.url.endsWith(".js")) return new URL("./run_worker.ts", import.meta.url).href;
  for (const candidate of ["./serve/run_worker.js", "./run_worker.js"]) {
    const url = new URL(candidate, import.meta.url);
    try {
      Deno.statSync(url);
      return url.href;
    } catch {
      // not in this layout
    }
  }
  throw new Error(`the bundle has no run_worker.js beside ${import.meta.url}`);
}

export function startRunThread(
  root: string,
  instance: string,
  feed: ChangeFeed,
  events: RunThreadEvents,
): RunThread {
  const worker = new Worker(workerUrl(), { type: "module", name: "swamp-runs" });
  const send = (message: ToWorker) => worker.postMessage(message);
  const running = new Set<string>();
  let whenIdle: (() => void)[] = [];
  let stopped: (() => void) | undefined;
  worker.onmessage = (message: MessageEvent<ToServer>) => {
    const said = message.data;
    if (said.kind === "changed") {
      feed.stored(
        said.runId,
        said.events.map((bytes) => fromBinary(RunEventSchema, bytes)),
        said.lines.map((bytes) => fromBinary(LogLineSchema, bytes)),
      );
    } else if (said.kind === "settled") {
      running.delete(said.runId);
      events.runSettled(said.runId, said.error);
      if (running.size === 0) {
        whenIdle.forEach((resolve) => resolve());
        whenIdle = [];
      }
    } else if (said.kind === "stopped") {
      stopped?.();
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    events.failed(event.error ?? event.message);
    // Nothing it ran can settle now: report them, and let a stop finish.
    for (const runId of running) events.runSettled(runId, "the run thread failed");
    running.clear();
    whenIdle.forEach((resolve) => resolve());
    whenIdle = [];
    stopped?.();
    dead = true;
  };
  let dead = false;
  send({ kind: "init", root, instance });
  return {
    supervise(runId, resumeInputs) {
      running.add(runId);
      events.runStarted(runId);
      send({ kind: "supervise", runId, resumeInputs });
    },
    poke: () => send({ kind: "poke" }),
    owned: () => [...running],
    idle: () =>
      running.size === 0 ? Promise.resolve() : new Promise((resolve) => whenIdle.push(resolve)),
    async stop() {
      if (!dead) {
        const done = new Promise<void>((resolve) => stopped = resolve);
        send({ kind: "stop" });
        await done;
      }
      worker.terminate();
    },
  };
}
