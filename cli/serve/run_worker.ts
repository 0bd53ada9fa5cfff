// A thread of `swamp serve` that executes the runs the server owns, so store
// syncs and process spawns never hold up the thread that answers calls. It
// has its own store instance (stores are safe for several writers) and tells
// the server thread about every change it stores, for the change feed.
/// <reference lib="deno.worker" />
import { toBinary } from "@bufbuild/protobuf";
import { LogLineSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { describeCause, observeWrites, superviseRun } from "../../runtime/mod.ts";
import { lazyEvaluator } from "../evaluator.ts";
import { engineDeps } from "../engine_deps.ts";
import { openRepoStore } from "../wiring.ts";
import type { ToServer, ToWorker } from "./run_messages.ts";

const post = (message: ToServer) => self.postMessage(message);
const stop = new AbortController();
const pokes = new Set<() => void>();
const running = new Set<Promise<void>>();
let ready: Promise<Parameters<typeof superviseRun>[0]> | undefined;
let instance = "";
let evaluator: ReturnType<typeof lazyEvaluator> | undefined;

self.onmessage = (message: MessageEvent<ToWorker>) => {
  const command = message.data;
  switch (command.kind) {
    case "init": {
      instance = command.instance;
      evaluator = lazyEvaluator();
      ready = openRepoStore(command.root).then((store) =>
        engineDeps(
          command.root,
          observeWrites(store, (runId, events, lines) =>
            post({
              kind: "changed",
              runId,
              events: events.map((e) => toBinary(RunEventSchema, e)),
              lines: lines.map((l) => toBinary(LogLineSchema, l)),
            })),
          evaluator!,
        )
      );
      break;
    }
    case "supervise":
      supervise(command.runId, command.resumeInputs);
      break;
    case "poke":
      pokes.forEach((poke) => poke());
      break;
    case "stop":
      stop.abort();
      Promise.allSettled(running).then(async () => {
        await evaluator?.close().catch(() => {});
        const deps = await ready?.catch(() => undefined);
        await deps?.store.close().catch(() => {});
        post({ kind: "stopped" });
      });
      break;
  }
};

function supervise(runId: string, resumeInputs?: Record<string, unknown>): void {
  let poke = () => {};
  const done = (async () => {
    try {
      const deps = await ready!;
      await superviseRun(deps, runId, {
        heartbeatMs: 10_000,
        resumeInputs,
        serverInstance: instance,
        signal: stop.signal,
        onPoke: (fn) => {
          poke = fn;
          pokes.add(fn);
        },
      });
      post({ kind: "settled", runId });
    } catch (error) {
      post({ kind: "settled", runId, error: describeCause(error) || String(error) });
    } finally {
      pokes.delete(poke);
    }
  })();
  running.add(done);
  done.finally(() => running.delete(done));
}
