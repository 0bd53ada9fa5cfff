// The server thread's side of the run thread (run_worker.ts): hands it runs,
// relays pokes and stop, and feeds the change feed with what it stored.
import { type ChangeFeed, type NewRun, SwampError, type Takeover } from "../../runtime/mod.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { ToServer, ToWorker } from "./run_messages.ts";
import type { HubLink } from "./hub_bridge.ts";
import { threadModuleUrl } from "./worker_url.ts";

export interface RunThreadEvents {
  runStarted(runId: string): void;
  runSettled(runId: string, error?: string): void;
  /** The run thread failed outside any run (it is then ended). */
  failed(error: unknown): void;
  /** Something the run thread could not do and will try again. */
  error(where: string, error: string): void;
}

export interface RunThread {
  supervise(
    runId: string,
    resumeInputs?: Record<string, unknown>,
    takeover?: Takeover,
  ): void;
  /** Creates the run on the run thread, which then supervises it; resolves with it as created. */
  start(spec: NewRun): Promise<Run>;
  poke(): void;
  /**
   * Hands every run over (decision 0030): each starts nothing new and is
   * left running once no step of it runs on this host; idle() then counts
   * it done.
   */
  release(): void;
  /** The runs left running for another instance, after release(). */
  released(): string[];
  /** Runs it executes now. */
  owned(): string[];
  /** Resolves when every run it was given has settled (or at once when none runs). */
  idle(): Promise<void>;
  /** Cancels what still runs (as a supervisor asked to stop), waits for it, ends the thread. */
  stop(): Promise<void>;
}

export function startRunThread(
  root: string,
  instance: string,
  feed: ChangeFeed,
  events: RunThreadEvents,
  hub: HubLink | undefined,
  nice: number,
): RunThread {
  const worker = new Worker(threadModuleUrl("run_worker", import.meta.url), {
    type: "module",
    name: "swamp-runs",
  });
  const send = (message: ToWorker) => worker.postMessage(message);
  const running = new Set<string>();
  const released: string[] = [];
  /** Starts asked for and not yet answered, by request id. */
  const starting = new Map<number, { resolve(run: Run): void; reject(error: unknown): void }>();
  let requests = 0;
  let whenIdle: (() => void)[] = [];
  const wakeIfIdle = () => {
    if (running.size > 0 || starting.size > 0) return;
    whenIdle.forEach((resolve) => resolve());
    whenIdle = [];
  };
  let stopped: (() => void) | undefined;
  worker.onmessage = (message: MessageEvent<ToServer>) => {
    const said = message.data;
    if (said.kind === "started") {
      const asked = starting.get(said.requestId);
      starting.delete(said.requestId);
      if (said.run) {
        const run = said.run;
        running.add(run.id);
        events.runStarted(run.id);
        asked?.resolve(run);
      } else {
        const { message, code, hint } = said.error ?? { message: "the run thread failed" };
        asked?.reject(
          code === undefined ? new Error(message) : new SwampError(code, message, { hint }),
        );
        wakeIfIdle();
      }
    } else if (said.kind === "changed") {
      feed.stored(said.runId, said.events, said.lines, true);
    } else if (said.kind === "settled") {
      running.delete(said.runId);
      events.runSettled(said.runId, said.error);
      wakeIfIdle();
    } else if (said.kind === "released") {
      running.delete(said.runId);
      released.push(said.runId);
      wakeIfIdle();
    } else if (said.kind === "error") {
      events.error(said.where, said.error);
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
    for (const asked of starting.values()) asked.reject(new Error("the run thread failed"));
    starting.clear();
    whenIdle.forEach((resolve) => resolve());
    whenIdle = [];
    stopped?.();
    dead = true;
  };
  let dead = false;
  // The hub bridge's port is transferred with init (hub_bridge.ts).
  worker.postMessage(
    { kind: "init", root, instance, hub, nice } satisfies ToWorker,
    hub ? [hub.port, ...(hub.capabilities ? [hub.capabilities] : [])] : [],
  );
  return {
    supervise(runId, resumeInputs, takeover) {
      running.add(runId);
      events.runStarted(runId);
      send({ kind: "supervise", runId, resumeInputs, takeover });
    },
    start(spec) {
      if (dead) return Promise.reject(new Error("the run thread failed"));
      const requestId = ++requests;
      return new Promise((resolve, reject) => {
        starting.set(requestId, { resolve, reject });
        send({ kind: "start", requestId, spec });
      });
    },
    poke: () => send({ kind: "poke" }),
    release: () => send({ kind: "release" }),
    released: () => [...released],
    owned: () => [...running],
    idle: () =>
      running.size === 0 && starting.size === 0
        ? Promise.resolve()
        : new Promise((resolve) => whenIdle.push(resolve)),
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
