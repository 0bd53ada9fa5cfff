import * as z from "zod/mini";
import { assertEquals, makeTempRepo, runServiceFor } from "../../test/helpers/mod.ts";
import { defineExecutorSettings, type Executor } from "../mod.ts";

// An executor brings its own `executor:` fields: the runtime checks a block
// against the schema of the executor its type names, whatever that is.

const sandboxed: Executor = {
  apiVersion: 1,
  name: "sandbox",
  features: { streamsLogs: true, canCancel: true, resourceLimits: false },
  settings: defineExecutorSettings(
    z.strictObject({ type: z.literal("sandbox"), profile: z.enum(["strict", "lax"]) }),
    (config, step) => ({ env: { ...step.identity, PROFILE: config.profile }, complete: (w) => w }),
  ),
  dispatch: () => {
    throw new Error("validation never runs a step");
  },
  reap: () => Promise.resolve([]),
};

function workflow(executor: string, placement = "") {
  return `id: 0b7d4e1c-2f6a-4c1e-9a43-5d2b8e6f7a11
name: placed
jobs:
  - name: main
    executor: ${executor}
${placement}    steps:
      - name: a
        task: {type: model_method, modelType: command/shell, modelName: a, methodName: execute, inputs: {run: echo}}
`;
}

async function problems(executor: string, extra: Executor[], placement = "") {
  await using repo = await makeTempRepo({ "workflows/w.yaml": workflow(executor, placement) });
  const service = await runServiceFor(repo.root, "tester", extra);
  const response = await service.validateWorkflows({ all: true });
  return response.results.flatMap((r) => r.diagnostics.map((d) => `${d.line}:${d.message}`));
}

Deno.test("an executor of the build is chosen with its own fields, checked by its own schema", async () => {
  assertEquals(await problems("{type: sandbox, profile: strict}", [sandboxed]), []);
  assertEquals(await problems("{type: sandbox, profile: open, image: x}", [sandboxed]), [
    "5:`open` is not allowed for `jobs[0].executor.profile`",
    "5:unknown key `image` in `jobs[0].executor`",
  ]);
});

Deno.test("an executor the build does not have is an unknown type, named with the known ones", async () => {
  const without = await problems("{type: sandbox, profile: strict}", []);
  assertEquals(without, ["5:`sandbox` is not a valid type"]);
});

Deno.test("a placed step may use an executor workers offer, never one only the orchestrator runs", async () => {
  const placed = '    labels: {pool: "a"}\n';
  assertEquals(await problems("{type: docker, image: busybox}", [sandboxed], placed), []);
  assertEquals(await problems("{type: sandbox, profile: strict}", [sandboxed], placed), [
    "8:this step runs in `executor: sandbox` and is placed on a remote worker " +
    "(`target`/`labels`), but no worker can run sandbox: workers offer loopback, docker",
  ]);
  // Not placed: it runs here, where sandbox is.
  assertEquals(await problems("{type: sandbox, profile: strict}", [sandboxed]), []);
});
