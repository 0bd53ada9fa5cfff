// The worker hub lives on the server's main thread; runs execute on the run
// thread. This bridge lets the remote executor on the run thread dispatch
// through the hub: a MessagePort of its own carries each dispatch's request
// one way and its events back, in order (a port keeps the order it was
// posted in), an abort as a cancel, and a reap's kill. Messages are
// structured clones: DispatchEvents are plain data (an epoch is a bigint,
// which clones). A dispatch's events cross no faster than the run thread
// takes them (`took` credits), so a step that prints faster than its run
// stores the lines is held back by the hub and its worker, not queued here.
import type {
  DispatchEvent,
  DispatchRequest,
  ExecutorRegistry,
  KillOutcome,
  WorkerHub,
} from "../../runtime/mod.ts";
import type { WorkerDispatcher } from "../../plugins/executors/remote/mod.ts";

/** Run thread → main thread. */
export type ToHub =
  | { kind: "dispatch"; id: number; request: DispatchRequest }
  | { kind: "cancel"; id: number }
  /** The run thread's reader took `count` more of the dispatch's events. */
  | { kind: "took"; id: number; count: number }
  | { kind: "kill"; id: number; workerId: string; leaseId: string; reason: string };

/** Main thread → run thread. */
export type FromHub =
  | { kind: "event"; id: number; event: DispatchEvent }
  /** The dispatch's stream ended (after its last event), or failed with `error`. */
  | { kind: "end"; id: number; error?: string }
  | { kind: "killed"; id: number; outcome: KillOutcome };

/** What the run thread is told at start: its end of the bridge and the environment to pass on. */
export interface HubLink {
  port: MessagePort;
  /** The server's variables named by `serve --pass-env`, read once at start. */
  passEnv: Record<string, string>;
  /** Workers' capability calls, from the public port to the run thread (capability_bridge.ts). */
  capabilities?: MessagePort;
}

type Hub = Pick<WorkerHub, "dispatch" | "killLease">;

/** Events of one dispatch posted and not yet taken by the run thread, at most. */
const bridgeWindow = 1024;
/** The run thread reports what it took in batches of this many. */
const tookBatch = 256;

/** One dispatch the main thread runs for the run thread. */
interface Going {
  abort: AbortController;
  /** Posted and not yet reported taken. */
  inFlight: number;
  /** Wakes the dispatch's loop waiting for credits. */
  room?: () => void;
}

/**
 * The main thread's end: runs each dispatch the run thread asks for on the
 * hub and posts its events back. Returns a stop that cancels every dispatch
 * still going (their streams still end, so the hub releases what it holds).
 */
export function serveHubBridge(hub: Hub, port: MessagePort): { stop(): void; active(): number } {
  const going = new Map<number, Going>();
  const post = (message: FromHub) => {
    try {
      port.postMessage(message);
    } catch {
      // The run thread is gone: nobody is listening any more.
    }
  };
  port.onmessage = (message: MessageEvent<ToHub>) => {
    const said = message.data;
    switch (said.kind) {
      case "dispatch": {
        const state: Going = { abort: new AbortController(), inFlight: 0 };
        going.set(said.id, state);
        (async () => {
          try {
            for await (const event of hub.dispatch(said.request, state.abort.signal)) {
              post({ kind: "event", id: said.id, event });
              state.inFlight++;
              // Not pulling from the hub lets its acks wait, and the worker's output with them.
              while (state.inFlight >= bridgeWindow && !state.abort.signal.aborted) {
                await new Promise<void>((resolve) => state.room = resolve);
              }
            }
            post({ kind: "end", id: said.id });
          } catch (error) {
            post({ kind: "end", id: said.id, error: String((error as Error)?.message ?? error) });
          } finally {
            going.delete(said.id);
          }
        })();
        break;
      }
      case "cancel": {
        const state = going.get(said.id);
        state?.abort.abort();
        state?.room?.();
        break;
      }
      case "took": {
        const state = going.get(said.id);
        if (!state) break;
        state.inFlight -= said.count;
        const room = state.room;
        state.room = undefined;
        room?.();
        break;
      }
      case "kill":
        hub.killLease(said.workerId, said.leaseId, said.reason).then(
          (outcome) => post({ kind: "killed", id: said.id, outcome }),
          () => post({ kind: "killed", id: said.id, outcome: "gone" }),
        );
        break;
    }
  };
  port.start();
  return {
    stop() {
      for (const state of going.values()) {
        state.abort.abort();
        state.room?.();
      }
      port.onmessage = null;
      port.close();
    },
    active: () => going.size,
  };
}

interface Listener {
  push(message: FromHub): void;
}

/**
 * The run thread's end: a WorkerDispatcher for the remote executor. Each
 * dispatch registers one listener, removed when its stream ends or its
 * reader stops (which cancels it first), so a finished run leaves none.
 */
export function hubBridgeClient(port: MessagePort): WorkerDispatcher & { listeners(): number } {
  const listeners = new Map<number, Listener>();
  let ids = 0;
  port.onmessage = (message: MessageEvent<FromHub>) => {
    listeners.get(message.data.id)?.push(message.data);
  };
  port.start();
  const send = (message: ToHub) => port.postMessage(message);
  return {
    listeners: () => listeners.size,
    async *dispatch(request: DispatchRequest, signal: AbortSignal) {
      const id = ++ids;
      const queue: FromHub[] = [];
      let wake: (() => void) | undefined;
      let taken = 0;
      listeners.set(id, {
        push(message) {
          queue.push(message);
          wake?.();
        },
      });
      let ended = false;
      const onAbort = () => {
        if (!ended) send({ kind: "cancel", id });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        send({ kind: "dispatch", id, request });
        if (signal.aborted) onAbort();
        for (;;) {
          while (queue.length === 0) await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          const message = queue.shift()!;
          if (message.kind === "end") {
            ended = true;
            if (message.error) throw new Error(`worker hub: ${message.error}`);
            return;
          }
          if (message.kind !== "event") continue;
          yield message.event;
          // Taken (the reader asked for the next one): the main thread may post more.
          if (++taken >= tookBatch) {
            send({ kind: "took", id, count: taken });
            taken = 0;
          }
        }
      } finally {
        // A reader that stopped early cancels what it no longer follows.
        if (!ended) send({ kind: "cancel", id });
        signal.removeEventListener("abort", onAbort);
        listeners.delete(id);
      }
    },
    killLease(workerId: string, leaseId: string, reason: string): Promise<KillOutcome> {
      const id = ++ids;
      return new Promise((resolve) => {
        listeners.set(id, {
          push(message) {
            if (message.kind !== "killed") return;
            listeners.delete(id);
            resolve(message.outcome);
          },
        });
        send({ kind: "kill", id, workerId, leaseId, reason });
      });
    },
  };
}

/** The server's values of the variables `serve --pass-env` names (unset ones are left out). */
export function passEnvOf(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Adds the remote executor dispatching straight through `hub` (on the hub's own thread). */
export async function withHubExecutor(
  registry: ExecutorRegistry,
  hub: Hub,
): Promise<ExecutorRegistry> {
  const { createRemoteExecutor } = await import("../../plugins/executors/remote/mod.ts");
  return registry.copy().register(createRemoteExecutor({ dispatcher: hub }));
}
