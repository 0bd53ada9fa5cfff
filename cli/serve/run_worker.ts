// A thread of `swamp serve` that executes the runs the server owns, so store
// syncs and process spawns never hold up the thread that answers calls. It
// has its own store instance (stores are safe for several writers) and tells
// the server thread about every change it stores, for the change feed.
/// <reference lib="deno.worker" />
import {
  createAndSuperviseRun,
  describeCause,
  isSettledRun,
  loadModelCatalog,
  type NewRun,
  observeWrites,
  patientStore,
  reconcileRun,
  StoreNotFound,
  superviseRun,
  SwampError,
  type Takeover,
} from "../../runtime/mod.ts";
import { lazyEvaluator } from "../evaluator.ts";
import { repoData } from "../data_reader.ts";
import { engineDeps } from "../engine_deps.ts";
import { extensionInspector, openRepoStore } from "../wiring.ts";
import type { ErrorInfo, ToServer, ToWorker } from "./run_messages.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { withRemoteExecutor } from "./remote_deps.ts";
import { setThreadNice } from "./thread_priority.ts";

const post = (message: ToServer) => self.postMessage(message);
/** How long a run waits for its store to come back before its write fails. */
const storeOutageMs = 60_000;
const stop = new AbortController();
/** Aborted to hand every run over to another instance (decision 0030). */
const handover = new AbortController();
const pokes = new Set<() => void>();
const running = new Set<Promise<void>>();
let ready: Promise<Parameters<typeof superviseRun>[0]> | undefined;
let instance = "";
let root = "";
let evaluator: ReturnType<typeof lazyEvaluator> | undefined;

self.onmessage = (message: MessageEvent<ToWorker>) => {
  const command = message.data;
  switch (command.kind) {
    case "init": {
      // First, before this thread starts any other: threads and processes inherit it (0038).
      const refused = command.nice === 0 ? undefined : setThreadNice(command.nice);
      if (refused) post({ kind: "error", where: "run thread priority", error: refused });
      instance = command.instance;
      root = command.root;
      // A short outage of a database store is ridden out, not fatal to every run (0027).
      // Checkpoints of a SQLite store's log are the checkpoint thread's (decision 0037).
      const opened = openRepoStore(command.root, { deferCheckpoints: true }).then((store) =>
        patientStore(store, { limitMs: storeOutageMs })
      );
      evaluator = lazyEvaluator(() => opened.then((store) => repoData(command.root, store)));
      ready = opened.then((store) =>
        engineDeps(
          command.root,
          // Copied as they are posted: later changes to the writer's objects do not cross.
          observeWrites(store, (runId, events, lines) =>
            post({ kind: "changed", runId, events, lines })),
          evaluator!,
        ).then((deps) =>
          command.hub ? withRemoteExecutor(deps, command.hub) : deps
        )
      );
      break;
    }
    case "supervise":
      supervise(command.runId, command.resumeInputs, command.takeover);
      break;
    case "start":
      start(command.requestId, command.spec);
      break;
    case "poke":
      pokes.forEach((poke) => poke());
      break;
    case "release":
      handover.abort();
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

/**
 * The engine's dependencies for one run, with the repository's models as they
 * are now: a definition added after the server started is known to the runs
 * it starts later (submission accepts it). Unchanged files are not read again.
 */
async function depsForRun(): Promise<Parameters<typeof superviseRun>[0]> {
  const deps = await ready!;
  return { ...deps, models: await loadModelCatalog(root, { extensions: extensionInspector() }) };
}

function supervise(
  runId: string,
  resumeInputs?: Record<string, unknown>,
  takeover?: Takeover,
): void {
  track(async (options) => {
    try {
      const run = await superviseRun(await depsForRun(), runId, {
        ...options,
        resumeInputs,
        takeover,
      });
      post(ended(run));
    } catch (error) {
      post({ kind: "settled", runId, error: describeCause(error) || String(error) });
      await endStoppedRun(runId, error);
    }
  });
}

/** Creates a run (answering with it, or with why it could not be) and supervises it. */
function start(requestId: number, spec: NewRun): void {
  track(async (options) => {
    let runId: string | undefined;
    try {
      const run = await createAndSuperviseRun(await depsForRun(), spec, {
        ...options,
        onCreated: (run) => {
          runId = run.id;
          post({ kind: "started", requestId, run });
        },
      });
      post(ended(run));
    } catch (error) {
      if (runId === undefined) post({ kind: "started", requestId, error: errorInfo(error) });
      else {
        post({ kind: "settled", runId, error: describeCause(error) || String(error) });
        await endStoppedRun(runId, error);
      }
    }
  });
}

/** What a supervisor's return means: the run settled, or was left for another instance. */
function ended(run: Run): ToServer {
  return !isSettledRun(run.status) && handover.signal.aborted
    ? { kind: "released", runId: run.id }
    : { kind: "settled", runId: run.id };
}

/** How often ending a run whose engine stopped is tried while the store cannot be written. */
const endRetryMs = 1_000;

/**
 * A run whose engine stopped with an error while this server lives would
 * stay `running` for good: its owner is alive, so no reader abandons it. It
 * is abandoned here as reconcile abandons a dead owner's runs (its processes
 * ended, its locks released), with the error as the reason, so it can be
 * resumed; tried again until the store takes it, unless the server stops
 * (a drain settles its runs itself) or another owner claimed the run.
 */
async function endStoppedRun(runId: string, error: unknown): Promise<void> {
  const reason = `the server's engine for the run stopped: ${describeCause(error) || error}`;
  while (!stop.signal.aborted) {
    try {
      const { store, clock, executors } = await ready!;
      await reconcileRun({ store, clock, executors: executors ?? new Map() }, runId, {
        ownerStopped: { server: instance, reason },
      });
      return;
    } catch (failure) {
      if (failure instanceof StoreNotFound) return; // the store no longer has it to end
      post({ kind: "error", where: `ending run ${runId}`, error: describeCause(failure) });
      await new Promise((resolve) => setTimeout(resolve, endRetryMs));
    }
  }
}

function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof SwampError) {
    return { message: error.message, code: error.code, hint: error.hint };
  }
  return { message: describeCause(error) || String(error) };
}

type RunOptions = Pick<
  Parameters<typeof superviseRun>[2],
  "heartbeatMs" | "serverInstance" | "signal" | "onPoke" | "handover"
>;

/** Runs `body` as one of the runs this thread owns, reachable by poke and waited for by stop. */
function track(body: (options: RunOptions) => Promise<void>): void {
  let poke = () => {};
  const done = body({
    heartbeatMs: 10_000,
    serverInstance: instance,
    signal: stop.signal,
    handover: handover.signal,
    onPoke: (fn) => {
      poke = fn;
      pokes.add(fn);
    },
  }).finally(() => pokes.delete(poke));
  running.add(done);
  done.finally(() => running.delete(done));
}
