// Decision 0034: a step's end is appended with `flushLater` and the engine
// waits for `flushed` before the next step's process starts. The store here
// is the real file store, whose `flushed` is made slow (a disk taking 40 ms
// to flush) so that a step started without waiting would show.
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { engineHarness, shell, workflowOf } from "../../test/helpers/engine.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import type { AppendRequest, RunStore } from "../ports/store.ts";
import { RunStatus, StepStatus } from "../run/status.ts";

const ok = { type: "succeeded" };

/** What the engine asked of the store, in order. */
type Call =
  | { kind: "append"; flushLater: boolean; changes: string[] }
  | { kind: "flushed" };

function changesIn(request: AppendRequest): string[] {
  return request.events.flatMap(({ payload }) => {
    if (payload.case === "stepStatusChanged") {
      return [`${payload.value.stepId} ${StepStatus[payload.value.to].toLowerCase()}`];
    }
    if (payload.case === "lockChanged") {
      return [`lock ${payload.value.held ? "taken" : "given back"}`];
    }
    return [];
  });
}

/** `store` with its appends and flush barriers logged, each barrier 40 ms slow. */
function logged(store: RunStore, calls: Call[]): RunStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === "append") {
        return (request: AppendRequest) => {
          calls.push({
            kind: "append",
            flushLater: request.flushLater === true,
            changes: changesIn(request),
          });
          return target.append(request);
        };
      }
      if (key === "flushed") {
        return async (runId: string) => {
          await new Promise((resolve) => setTimeout(resolve, 40));
          await target.flushed!(runId);
          calls.push({ kind: "flushed" });
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("a step's end is flushed before the next step starts, and its lock taking is written with its start", async () => {
  await using temp = await tempFileStore();
  const calls: Call[] = [];
  await using h = await engineHarness({ store: logged(await temp.reopen(), calls) });
  const { done } = await h.start(workflowOf("seq", [{
    name: "main",
    steps: [
      shell("a", "true"),
      shell("b", "true", { dependsOn: [{ step: "a", condition: ok }] }),
    ],
  }]));
  assertEquals((await done).status, RunStatus.SUCCEEDED);

  const aEnd = calls.findIndex((c) =>
    c.kind === "append" && c.changes.includes("main/a succeeded")
  );
  const bRunning = calls.findIndex((c) =>
    c.kind === "append" && c.changes.includes("main/b running")
  );
  assert(aEnd >= 0 && bRunning > aEnd, JSON.stringify(calls));
  assertEquals((calls[aEnd] as { flushLater: boolean }).flushLater, true, "a's end flushed later");
  assert(
    calls.slice(aEnd + 1, bRunning).some((c) => c.kind === "flushed"),
    `b started before a's end was flushed: ${JSON.stringify(calls.slice(aEnd, bRunning + 1))}`,
  );
  // The run's end is flushed as it is written: nothing after it waits on a barrier.
  const last = calls.findLast((c) => c.kind === "append") as { flushLater: boolean };
  assertEquals(last.flushLater, false);
  // No append of the lock's taking alone: it goes with the step's start.
  for (const call of calls) {
    if (call.kind !== "append" || !call.changes.includes("lock taken")) continue;
    assert(call.changes.some((c) => c.endsWith(" running")), JSON.stringify(call));
  }
});
