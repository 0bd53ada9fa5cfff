// The prune part of the store contract (RunStore.pruneRun): an ended run goes
// whole (events, logs, summary, index entries, locks, leases), a live one is
// never touched, and a writer that comes after the prune finds no run.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { RunSummarySchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  finishedStatuses,
  type PruneRule,
  type RunStore,
  StoreNotFound,
} from "../../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/mod.ts";
import type { StoreTest } from "./store_contract_tokens.ts";
import { event, logLine, newRun, type RunShape, RunStatus } from "./store_messages.ts";

const day = 86_400_000;
const now = Date.UTC(2026, 11, 1);
const rule: PruneRule = { endedBeforeMs: now - 30 * day, statuses: finishedStatuses };
const notFound = (error: unknown) => error instanceof StoreNotFound;

/** A run created, given a log line and a lock, then moved to `status` (ended at `endMs`). */
export async function endedRun(
  store: RunStore,
  status: RunStatus,
  endMs: number | undefined,
  shape: RunShape = {},
): Promise<string> {
  const run = newRun({ createMs: (endMs ?? now) - 60_000, ...shape });
  const id = run.shape.id;
  await store.createRun(run.first, run.summary, run.snapshot);
  await store.appendLogs(id, [logLine("build/compile", "compiling")]);
  const summary = create(RunSummarySchema, {
    ...run.summary,
    status,
    endTime: endMs === undefined ? undefined : timestampFromMs(endMs),
  });
  await store.append({ runId: id, expectedSeq: 1n, events: [event(id, 2n)], summary });
  return id;
}

async function isWhole(store: RunStore, id: string): Promise<boolean> {
  const loaded = await store.loadRun(id);
  const events = await store.readEvents(id, 0n);
  const logs = await store.readLogs(id, 0n, 10);
  const listed = (await store.listRuns({ limit: 1000 })).runs.some((r) => r.id === id);
  return loaded !== undefined && events.length === 2 && logs.length === 1 && listed &&
    (await store.findRunIds(id, 2)).includes(id);
}

export function pruneContract(test: StoreTest): void {
  test("prune: an ended run goes whole, with its locks and leases", async ({ store, reopen }) => {
    const id = await endedRun(store, RunStatus.SUCCEEDED, rule.endedBeforeMs - day);
    const kept = await endedRun(store, RunStatus.SUCCEEDED, rule.endedBeforeMs + day);
    await store.tryAcquireLock("model:db", id);
    await store.acquireLease({
      runId: id,
      stepId: "build/compile",
      attempt: 1,
      workerId: "w1",
      now: new Date(now),
      expireTime: new Date(now + 30_000),
    });
    const pruned = await store.pruneRun(id, rule);
    assertEquals(pruned?.runId, id);
    assert(pruned && pruned.bytes > 0, "the bytes freed are counted");
    for (const reader of [store, await reopen()]) {
      assertEquals(await reader.loadRun(id), undefined);
      await assertRejects(() => reader.readEvents(id, 0n), notFound);
      await assertRejects(() => reader.readLogs(id, 0n, 10), notFound);
      assertEquals((await reader.listRuns({ limit: 10 })).runs.map((r) => r.id), [kept]);
      assertEquals(
        (await reader.listRuns({ limit: 10, statuses: [RunStatus.SUCCEEDED] })).runs.length,
        1,
      );
      assertEquals(await reader.findRunIds(id, 5), []);
      assertEquals(await reader.listLocks(), []);
      assertEquals(await reader.listLeases({ runId: id }), []);
    }
    assert(await isWhole(store, kept), "the run that ended later is untouched");
    assertEquals(await store.pruneRun(id, rule), undefined, "a second prune finds nothing");
  });

  test("prune: never a live run, a run ended after the cutoff, or one the rule leaves out", async ({ store }) => {
    const old = rule.endedBeforeMs - day;
    const ids = [
      // A live run with an end time is still live: the status decides.
      ...[RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SUSPENDED, RunStatus.CANCELLING]
        .map((status) => endedRun(store, status, old)),
      endedRun(store, RunStatus.FAILED, rule.endedBeforeMs + 1),
      endedRun(store, RunStatus.FAILED, undefined),
    ];
    for (const id of await Promise.all(ids)) {
      assertEquals(await store.pruneRun(id, rule), undefined);
      assert(await isWhole(store, id), `run ${id} is whole`);
    }
    const abandoned = await endedRun(store, RunStatus.ABANDONED, old);
    const onlyFailed = { ...rule, statuses: [RunStatus.FAILED, RunStatus.RUNNING] };
    assertEquals(await store.pruneRun(abandoned, onlyFailed), undefined);
    assert(await isWhole(store, abandoned));
    assertEquals(await store.pruneRun(crypto.randomUUID(), rule), undefined);
    assertEquals(await store.pruneRun("../../etc", rule), undefined);
  });

  test("prune: a run made live again before the prune is kept", async ({ store }) => {
    const id = await endedRun(store, RunStatus.FAILED, rule.endedBeforeMs - day);
    const loaded = await store.loadRun(id);
    assert(loaded);
    // A resume: the failed run is running again, its end time cleared.
    const running = create(RunSummarySchema, {
      id,
      workflowName: loaded.snapshot.workflowName,
      status: RunStatus.RUNNING,
      createTime: loaded.snapshot.createTime,
    });
    await store.append({ runId: id, expectedSeq: 2n, events: [event(id, 3n)], summary: running });
    assertEquals(await store.pruneRun(id, rule), undefined);
    assertEquals((await store.readEvents(id, 0n)).length, 3);
  });

  test("prune: a writer that comes after the prune finds no run", async ({ store, reopen }) => {
    const id = await endedRun(store, RunStatus.CANCELLED, rule.endedBeforeMs - day);
    const other = await reopen();
    assert(await other.loadRun(id));
    assert(await store.pruneRun(id, rule));
    const summary = create(RunSummarySchema, { id, status: RunStatus.RUNNING });
    await assertRejects(
      () => other.append({ runId: id, expectedSeq: 2n, events: [event(id, 3n)], summary }),
      notFound,
    );
    await assertRejects(() => other.appendLogs(id, [logLine("a", "late")]), notFound);
    assertEquals(await other.loadRun(id), undefined);
  });
}
