import * as z from "zod/mini";
import { assertEquals, assertThrows } from "../../test/helpers/assert.ts";
import { defineExecutorSettings, type Executor } from "../ports/executor.ts";
import { SwampError } from "../errors/mod.ts";
import { defaultExecutorName, ExecutorRegistry, placingExecutor } from "./registry.ts";

// Built-in and extension executors register the same way; the registry
// refuses what it cannot run, naming where it came from.

const executor = (name: string, more: Partial<Executor> = {}): Executor => ({
  apiVersion: 1,
  name,
  features: { streamsLogs: true, canCancel: false, resourceLimits: false },
  dispatch: () => {
    throw new Error("not dispatched here");
  },
  reap: () => Promise.resolve([]),
  ...more,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SwampError) return error.codeName;
    throw error;
  }
  return "none";
}

Deno.test("the default is the one registered as such, else the first", () => {
  const registry = new ExecutorRegistry().register(executor("a")).register(executor("b"));
  assertEquals(registry.defaultName, "a");
  registry.register(executor("c"), { kind: "builtin" }, { default: true });
  assertEquals([registry.defaultName, defaultExecutorName(registry)], ["c", "c"]);
  assertEquals(defaultExecutorName(new Map([["x", executor("x")]])), "x");
  const copy = registry.copy().register(executor("placer", { placesSteps: true }));
  assertEquals([copy.defaultName, copy.size, registry.size], ["c", 4, 3]);
  assertEquals(placingExecutor(copy)?.name, "placer");
  assertEquals(placingExecutor(registry), undefined);
});

Deno.test("an unsupported or missing apiVersion is refused, naming the module", () => {
  const registry = new ExecutorRegistry();
  const where = { kind: "extension" as const, path: "extensions/executors/future.ts" };
  assertEquals(
    codeOf(() => registry.register(executor("future", { apiVersion: 2 }), where)),
    "executor_api_unsupported",
  );
  assertThrows(
    () => registry.register(executor("future", { apiVersion: 2 }), where),
    "extensions/executors/future.ts: the executor is written for executor API version 2",
  );
  const unversioned = { ...executor("old"), apiVersion: undefined } as unknown as Executor;
  assertEquals(codeOf(() => registry.register(unversioned, where)), "executor_api_unsupported");
  assertEquals(registry.size, 0);
});

Deno.test("a malformed executor, or a name already taken, is refused", () => {
  const registry = new ExecutorRegistry().register(executor("loopback"));
  const where = { kind: "extension" as const, path: "extensions/executors/x.ts" };
  assertThrows(() => registry.register(executor("loopback"), where), "already taken");
  assertEquals(codeOf(() => registry.register(executor("Bad Name"), where)), "executor_invalid");
  const noFeatures = { ...executor("nf"), features: { streamsLogs: true } } as unknown as Executor;
  assertThrows(() => registry.register(noFeatures, where), "canCancel, resourceLimits");
  const noReap = { ...executor("nr"), reap: undefined } as unknown as Executor;
  assertThrows(() => registry.register(noReap, where), "has no reap()");
  // A settings schema whose `type` is not the executor's own name alone.
  const loose = defineExecutorSettings(
    z.strictObject({ type: z.string() }),
    () => ({ env: {}, complete: (w) => w }),
  );
  assertThrows(
    () => registry.register(executor("loose", { settings: loose }), where),
    "accepts a `type` other than its name",
  );
  const own = defineExecutorSettings(
    z.strictObject({ type: z.literal("own") }),
    () => ({ env: {}, complete: (w) => w }),
  );
  registry.register(executor("own", { settings: own }), where);
  assertEquals(registry.origin("own"), where);
  assertThrows(
    () =>
      registry.register(executor("p1", { placesSteps: true })).register(
        executor("p2", { placesSteps: true }),
      ),
    "another one does",
  );
});
