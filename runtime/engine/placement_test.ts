import { create } from "@bufbuild/protobuf";
import * as z from "zod/mini";
import { PlacementSchema, RunSchema, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import type { SwampError } from "../errors/mod.ts";
import { defineExecutorSettings, type Executor, type StepWork } from "../ports/executor.ts";
import type { EngineDeps } from "./deps.ts";
import { placementFor } from "./placement.ts";

// A placed step is prepared with the settings of the executor its block
// names, as a step run here would be, then sent through the remote executor
// with that executor's name for the worker.

const executor = (name: string, more: Partial<Executor> = {}): Executor => ({
  apiVersion: 1,
  name,
  features: { streamsLogs: true, canCancel: true, resourceLimits: false },
  dispatch: () => {
    throw new Error("placement runs nothing");
  },
  reap: () => Promise.resolve([]),
  ...more,
});

const plain = executor("loopback", {
  runsOnWorkers: true,
  settings: defineExecutorSettings(
    z.strictObject({ type: z.literal("loopback") }),
    (_c, step) => ({ env: { ...step.hostEnv, ...step.identity }, complete: (w) => w }),
  ),
});
const box = executor("box", {
  runsOnWorkers: true,
  settings: defineExecutorSettings(
    z.strictObject({ type: z.literal("box"), image: z.string() }),
    (config, step) => ({
      env: { ...step.identity, IN: "box" },
      complete: (w) => ({ ...w, cwd: undefined, container: { image: config.image } }),
    }),
  ),
});
const here = executor("here", { settings: box.settings });
const remote = executor("remote", { placesSteps: true });

const deps = {
  executor: plain,
  executors: new Map([plain, box, here, remote].map((e) => [e.name, e])),
  remoteEnv: { PASSED: "yes" },
} as unknown as EngineDeps;

const run = create(RunSchema, { id: "r1", attempt: 1, workflowName: "w" });
const step = create(StepSchema, { id: "main/s", name: "s", job: "main" });
const placed = create(PlacementSchema, { labels: { pool: "a" } });

const work = (env: Record<string, string>): StepWork => ({
  runId: "r1",
  stepId: "main/s",
  command: { script: "true" },
  env,
  cwd: "/repo",
  graceMs: 100,
  outputLimitBytes: 100,
});

Deno.test("a placed step in a worker executor is prepared with its settings and names it", () => {
  const p = placementFor(deps, { type: "box", image: "busybox" }, run, step, placed, 4000);
  assertEquals(p.executor.name, "remote");
  assertEquals(p.remote, true);
  // The block's environment, none of what the server passes to plain steps.
  assertEquals(p.env.IN, "box");
  assertEquals(p.env.PASSED, undefined);
  assertEquals(p.env.SWAMP_RUN_ID, "r1");
  const done = p.complete(work(p.env));
  assertEquals(done.container, { image: "busybox" });
  assertEquals(done.cwd, undefined);
  assertEquals(done.placement, { labels: { pool: "a" }, executor: "box", queueTimeoutMs: 4000 });
  assertEquals(done.labels?.["dev.swamp.step-id"], "main/s");
});

Deno.test("a placed step without a block runs with the worker's default executor", () => {
  const p = placementFor(deps, undefined, run, step, placed);
  assertEquals(p.env.PASSED, "yes");
  assertEquals(p.complete(work(p.env)).placement?.executor, "loopback");
});

Deno.test("a placed step in an executor no worker can run is refused", () => {
  let error: SwampError | undefined;
  try {
    placementFor(deps, { type: "here", image: "x" }, run, step, placed);
  } catch (caught) {
    error = caught as SwampError;
  }
  assertEquals(error?.codeName, "invalid_workflow");
  assertEquals(
    error?.message,
    "step main/s runs in `executor: here` and is placed on a remote worker " +
      '(labels {pool: "a"}), but no worker can run here: workers offer loopback, box',
  );
});
