// The engine in this process, fast: a memory store, a fake clock, the real
// loopback executor (steps are real processes) and no CEL evaluator unless a
// test brings one. For unit tests of scheduling, cancellation and gates that
// need no supervisor process (issue 17).
import { createLoopbackExecutor } from "../../plugins/executors/loopback/mod.ts";
import { MemoryData, openMemoryStore } from "../../plugins/stores/memory/mod.ts";
import { Trigger } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  createAndSuperviseRun,
  loadModelCatalog,
  type NewRun,
  randomIds,
  type RunStore,
} from "../../runtime/mod.ts";
import { FakeClock } from "./clock.ts";

export type WorkflowSpec = NewRun["workflow"];

export interface EngineHarness {
  store: RunStore;
  clock: FakeClock;
  /** A scratch directory steps may use (their working directory). */
  dir: string;
  /** Starts a run of `workflow`; `done` settles with its final record (suspended counts). */
  start(workflow: WorkflowSpec): Promise<StartedRun>;
  /** Every event of a run, in order. */
  events(runId: string): Promise<RunEvent[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartedRun {
  runId: string;
  done: Promise<Run>;
  /** Cancels the run as a supervisor asked to stop does (a cancel request from `system`). */
  cancel(): void;
  /** Hands the run over as a draining server does (decision 0030). */
  handOver(): void;
}

/** A command/shell step running `script` in the harness directory. */
export function shell(name: string, script: string, more: Record<string, unknown> = {}) {
  return {
    name,
    task: {
      type: "model_method",
      modelType: "command/shell",
      modelName: name,
      methodName: "execute",
      inputs: { run: script },
    },
    ...more,
  };
}

/** A workflow of the given jobs (each `{ name, steps, ... }`). */
export function workflowOf(name: string, jobs: unknown[]): WorkflowSpec {
  return { id: crypto.randomUUID(), name, jobs } as unknown as WorkflowSpec;
}

/** A fresh in-memory store, as the harness uses by default. */
export function memoryStore(): Promise<RunStore> {
  return openMemoryStore(new MemoryData());
}

/** `store`: run on this store instead of a memory one (the harness closes it). */
export async function engineHarness(
  options: { graceMs?: number; pollMs?: number; store?: RunStore } = {},
): Promise<EngineHarness> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-engine-" });
  const store = options.store ?? await memoryStore();
  const clock = new FakeClock();
  const loopback = createLoopbackExecutor();
  const deps = {
    store,
    executor: loopback,
    executors: new Map([["loopback", loopback]]),
    clock,
    ids: randomIds,
    models: await loadModelCatalog(dir),
    repoRoot: dir,
    maxParallel: 16,
    graceMs: options.graceMs ?? 300,
    outputLimitBytes: 64 * 1024,
    pollMs: options.pollMs ?? 20,
  };
  const running = new Set<Promise<unknown>>();
  const stops = new Set<AbortController>();
  return {
    store,
    clock,
    dir,
    start(workflow) {
      const stop = new AbortController();
      const handover = new AbortController();
      stops.add(stop);
      let created!: (id: string) => void;
      const id = new Promise<string>((resolve) => created = resolve);
      const done = createAndSuperviseRun(deps, {
        workflow,
        workflowFile: `workflows/${workflow.name}.yaml`,
        workflowHash: "",
        inputs: {},
        actor: "engine-test",
        trigger: Trigger.MANUAL,
      }, {
        heartbeatMs: 1000,
        signal: stop.signal,
        handover: handover.signal,
        onCreated: (run) => created(run.id),
      });
      running.add(done.catch(() => {}));
      return Promise.race([id, done.then((run) => run.id)]).then((runId) => ({
        runId,
        done,
        cancel: () => stop.abort(),
        handOver: () => handover.abort(),
      }));
    },
    events: (runId) => store.readEvents(runId, 0n),
    async [Symbol.asyncDispose]() {
      // A test that failed midway leaves runs going: cancel them, so nothing outlives it.
      for (const stop of stops) stop.abort();
      await Promise.all(running);
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
