// The RunStore contract (runtime/ports/store.ts): every store runs these
// tests unchanged. Each test opens a fresh, empty store.
import { type RunStore, StoreConflict, StoreNotFound } from "../../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/mod.ts";
import {
  event,
  events,
  logLine,
  newRun,
  runId,
  type RunShape,
  RunStatus,
  snapshotAt,
  summary,
} from "./store_messages.ts";
import { processContract } from "./store_contract_processes.ts";
import { type StoreTest, tokenContract } from "./store_contract_tokens.ts";
import { workerTokenContract } from "./store_contract_worker_tokens.ts";
import { leaseContract } from "./store_contract_leases.ts";
import { dataContract } from "./store_contract_data.ts";
import { pruneContract } from "./store_contract_prune.ts";
import { growingRunContract } from "./store_contract_growing.ts";
import { type OpenStore, type StoreFixture, withStore } from "./store_fixture.ts";

export type { OpenStore, StoreFixture };

async function create(store: RunStore, shape: RunShape = {}) {
  const run = newRun(shape);
  await store.createRun(run.first, run.summary, run.snapshot);
  return run;
}

const seqs = (list: { seq: bigint }[]) => list.map((item) => item.seq);
const ids = (list: { id: string }[]) => list.map((item) => item.id);
const conflictWith = (actual: bigint) => (error: unknown) =>
  error instanceof StoreConflict && error.actualSeq === actual;
const notFound = (error: unknown) => error instanceof StoreNotFound;

/** `oneProcess`: why the store cannot be shared between processes (its process cases do not apply). */
export function storeContract(name: string, open: OpenStore, oneProcess?: string): void {
  const test: StoreTest = (what, body, options) => {
    // Not registered at all for a one-process store: the case does not apply, it is not skipped.
    if (options?.processes === true && oneProcess !== undefined) return;
    Deno.test(`${name} store: ${what}`, () => withStore(open, body));
  };

  test("createRun, then loadRun returns the snapshot and no tail", async ({ store }) => {
    const run = await create(store);
    const loaded = await store.loadRun(run.shape.id);
    assert(loaded);
    assertEquals(loaded.snapshot, run.snapshot);
    assertEquals(loaded.tail, []);
    assertEquals(await store.readEvents(run.shape.id, 0n), [run.first]);
    assertEquals(await store.loadRun(runId()), undefined);
  });

  test("createRun of an existing id is a conflict", async ({ store }) => {
    const run = await create(store);
    await assertRejects(
      () => store.createRun(run.first, run.summary, run.snapshot),
      (error) => error instanceof StoreConflict,
    );
    assertEquals((await store.listRuns({ limit: 10 })).runs.length, 1);
  });

  test("append is conditional on the last seq", async ({ store }) => {
    const { shape } = await create(store);
    const id = shape.id;
    await store.append({
      runId: id,
      expectedSeq: 1n,
      events: events(id, 1n, 2),
      summary: summary(shape),
    });
    await assertRejects(
      () =>
        store.append({
          runId: id,
          expectedSeq: 1n,
          events: events(id, 1n, 1),
          summary: summary(shape),
        }),
      conflictWith(3n),
    );
    await assertRejects(
      () =>
        store.append({
          runId: id,
          expectedSeq: 5n,
          events: events(id, 5n, 1),
          summary: summary(shape),
        }),
      conflictWith(3n),
    );
    assertEquals(seqs(await store.readEvents(id, 0n)), [1n, 2n, 3n]);
    const unknown = runId();
    await assertRejects(
      () =>
        store.append({
          runId: unknown,
          expectedSeq: 1n,
          events: events(unknown, 1n, 1),
          summary: summary({ ...shape, id: unknown }),
        }),
      notFound,
    );
    await assertRejects(() => store.readEvents(unknown, 0n), notFound);
    assertEquals(await store.readEvents(id, 99n), []);
  });

  test("two appends racing with the same expectedSeq: exactly one wins", async (f) => {
    const { shape } = await create(f.store);
    const other = await f.reopen();
    const results = await Promise.allSettled(
      [f.store, other, f.store, other].map((s, i) =>
        s.append({
          runId: shape.id,
          expectedSeq: 1n,
          events: [event(shape.id, 2n, `racer ${i}`)],
          summary: summary(shape),
        })
      ),
    );
    assertEquals(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert(conflictWith(2n)(r.reason), String(r.reason));
    }
    assertEquals(seqs(await f.store.readEvents(shape.id, 0n)), [1n, 2n]);
  });

  test("loadRun sees what another connection wrote since its own last load", async (f) => {
    const { shape } = await create(f.store);
    const id = shape.id;
    const other = await f.reopen();
    const base = { runId: id, summary: summary(shape) };
    const tailSeqs = async () => seqs((await f.store.loadRun(id))!.tail);
    assertEquals(await tailSeqs(), []);
    // Loaded again while fresh and after the file system's clock has moved on, so a store
    // that remembers a loaded run is tried both ways.
    await other.append({ ...base, expectedSeq: 1n, events: events(id, 1n, 1) });
    assertEquals(await tailSeqs(), [2n]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assertEquals(await tailSeqs(), [2n]);
    await other.append({ ...base, expectedSeq: 2n, events: events(id, 2n, 1) });
    assertEquals(await tailSeqs(), [2n, 3n]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assertEquals(await tailSeqs(), [2n, 3n]);
    await other.append({
      ...base,
      expectedSeq: 3n,
      events: events(id, 3n, 1),
      snapshot: snapshotAt(shape, 4n),
    });
    const loaded = await f.store.loadRun(id);
    assertEquals(loaded!.snapshot.revision, 4n);
    assertEquals(loaded!.tail, []);
  });

  test("loadRun returns the newest snapshot and only the events after it", async ({ store }) => {
    const { shape } = await create(store);
    const id = shape.id;
    const base = { runId: id, summary: summary(shape) };
    await store.append({ ...base, expectedSeq: 1n, events: events(id, 1n, 2) });
    assertEquals(seqs((await store.loadRun(id))!.tail), [2n, 3n]);
    await store.append({
      ...base,
      expectedSeq: 3n,
      events: events(id, 3n, 1),
      snapshot: snapshotAt(shape, 4n),
    });
    let loaded = await store.loadRun(id);
    assertEquals(loaded!.snapshot.revision, 4n);
    assertEquals(loaded!.tail, []);
    await store.append({ ...base, expectedSeq: 4n, events: events(id, 4n, 2) });
    loaded = await store.loadRun(id);
    assertEquals(loaded!.snapshot, snapshotAt(shape, 4n));
    assertEquals(seqs(loaded!.tail), [5n, 6n]);
  });

  test("readEvents after a seq, with a limit, in a long log", async ({ store }) => {
    const { shape } = await create(store);
    const id = shape.id;
    // Big enough (about 400 KB) that a store cannot get away with tiny-file shortcuts.
    const padding = "x".repeat(1000);
    for (let from = 1n; from < 401n; from += 50n) {
      const batch = events(id, from, 50, padding);
      await store.append({ runId: id, expectedSeq: from, events: batch, summary: summary(shape) });
    }
    assertEquals(seqs(await store.readEvents(id, 3n, 4)), [4n, 5n, 6n, 7n]);
    assertEquals(seqs(await store.readEvents(id, 397n)), [398n, 399n, 400n, 401n]);
    assertEquals(seqs(await store.readEvents(id, 250n, 2)), [251n, 252n]);
    assertEquals(await store.readEvents(id, 401n), []);
    const all = await store.readEvents(id, 0n);
    assertEquals(seqs(all), Array.from({ length: 401 }, (_, i) => BigInt(i + 1)));
    assertEquals(all[100].reason, padding);
    assertEquals(seqs((await store.loadRun(id))!.tail).length, 400);
  });

  test("append replaces the run's summary", async ({ store }) => {
    const { shape } = await create(store, { status: RunStatus.RUNNING });
    const done = { ...shape, status: RunStatus.SUCCEEDED };
    assertEquals(ids(await store.listActiveRuns()), [shape.id]);
    await store.append({
      runId: shape.id,
      expectedSeq: 1n,
      events: events(shape.id, 1n, 1),
      summary: summary(done),
    });
    assertEquals((await store.listRuns({ limit: 5 })).runs, [summary(done)]);
    assertEquals(await store.listActiveRuns(), []);
    const succeeded = await store.listRuns({ limit: 5, statuses: [RunStatus.SUCCEEDED] });
    assertEquals(ids(succeeded.runs), [shape.id]);
    assertEquals((await store.listRuns({ limit: 5, statuses: [RunStatus.RUNNING] })).runs, []);
  });

  test("listRuns: newest first, filters, and paging that sees every run once", async ({ store }) => {
    const t0 = Date.now() - 100_000;
    const statuses = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.RUNNING];
    const made: string[] = [];
    for (let i = 0; i < 11; i++) {
      const run = await create(store, {
        workflow: i % 2 === 0 ? "deploy" : "backup",
        status: statuses[i % 3],
        createMs: t0 + i * 1000,
      });
      made.push(run.shape.id);
    }
    const newest = [...made].reverse();
    const first = await store.listRuns({ limit: 4 });
    assertEquals(ids(first.runs), newest.slice(0, 4));
    assert(first.nextCursor !== "");

    const paged: string[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const page = await store.listRuns({ limit: 3, cursor });
      paged.push(...ids(page.runs));
      cursor = page.nextCursor;
      // A run created mid-listing must not disturb the pages still to come.
      if (pages++ === 0) await create(store, { workflow: "other", createMs: t0 + 50_000 });
    } while (cursor !== "");
    assertEquals(paged, newest);
    assertEquals(pages, 4);

    const deploy = newest.filter((_, i) => (10 - i) % 2 === 0);
    assertEquals(ids((await store.listRuns({ limit: 20, workflow: "deploy" })).runs), deploy);
    const finished = newest.filter((_, i) => (10 - i) % 3 !== 2);
    const ended = [RunStatus.SUCCEEDED, RunStatus.FAILED];
    assertEquals(ids((await store.listRuns({ limit: 20, statuses: ended })).runs), finished);

    const both: string[] = [];
    cursor = "";
    do {
      const page = await store.listRuns({ limit: 2, workflow: "backup", statuses: ended, cursor });
      assert(page.runs.length <= 2);
      both.push(...ids(page.runs));
      cursor = page.nextCursor;
    } while (cursor !== "");
    assertEquals(both, newest.filter((_, i) => (10 - i) % 2 === 1 && (10 - i) % 3 !== 2));
    assertEquals(await store.listRuns({ limit: 5, workflow: "nope" }), {
      runs: [],
      nextCursor: "",
    });
  });

  test("listActiveRuns lists only runs that are not terminal", async ({ store }) => {
    const active = [
      RunStatus.PENDING,
      RunStatus.RUNNING,
      RunStatus.SUSPENDED,
      RunStatus.CANCELLING,
    ];
    const terminal = [
      RunStatus.SUCCEEDED,
      RunStatus.FAILED,
      RunStatus.CANCELLED,
      RunStatus.ABANDONED,
    ];
    const want: string[] = [];
    for (const status of [...active, ...terminal]) {
      const run = await create(store, { status });
      if (active.includes(status)) want.push(run.shape.id);
    }
    assertEquals(ids(await store.listActiveRuns()).sort(), want.sort());
    // A terminal run that becomes active again (a resume) is listed again.
    const resumed = await create(store, { status: RunStatus.SUSPENDED });
    const s = (status: RunStatus) => summary({ ...resumed.shape, status });
    const id = resumed.shape.id;
    await store.append({
      runId: id,
      expectedSeq: 1n,
      events: events(id, 1n, 1),
      summary: s(RunStatus.FAILED),
    });
    assert(!ids(await store.listActiveRuns()).includes(id));
    await store.append({
      runId: id,
      expectedSeq: 2n,
      events: events(id, 2n, 1),
      summary: s(RunStatus.RUNNING),
    });
    assert(ids(await store.listActiveRuns()).includes(id));
  });

  test("findRunIds by prefix", async ({ store }) => {
    const mine = [];
    for (let i = 0; i < 3; i++) {
      mine.push((await create(store, { id: runId("c0ffee1" + i) })).shape.id);
    }
    const others = [];
    for (let i = 0; i < 3; i++) others.push((await create(store, { id: runId("c1") })).shape.id);
    assertEquals((await store.findRunIds("c0ffee1", 10)).sort(), [...mine].sort());
    assertEquals(await store.findRunIds(mine[1].slice(0, 8), 10), [mine[1]]);
    assertEquals(await store.findRunIds(mine[2], 10), [mine[2]]);
    assertEquals((await store.findRunIds("c0ffee1", 2)).length, 2);
    assertEquals((await store.findRunIds("c", 10)).sort(), [...mine, ...others].sort());
    assertEquals(await store.findRunIds("deadbeef", 10), []);
    assertEquals(await store.findRunIds("../", 10), []);
  });

  test("logs: seqs from 1, read by afterSeq, limit and step", async ({ store }) => {
    const { shape } = await create(store);
    const id = shape.id;
    assertEquals(await store.readLogs(id, 0n, 10), []);
    assertEquals(
      await store.appendLogs(id, [logLine("a", "1"), logLine("b", "2"), logLine("a", "3")]),
      [1n, 2n, 3n],
    );
    assertEquals(await store.appendLogs(id, [logLine("b", "4"), logLine("a", "5")]), [4n, 5n]);
    const all = await store.readLogs(id, 0n, 100);
    assertEquals(all.map((l) => [l.seq, l.stepId, l.text]), [
      [1n, "a", "1"],
      [2n, "b", "2"],
      [3n, "a", "3"],
      [4n, "b", "4"],
      [5n, "a", "5"],
    ]);
    assertEquals(all[0].stream, "stdout");
    assertEquals(seqs(await store.readLogs(id, 2n, 2)), [3n, 4n]);
    assertEquals(seqs(await store.readLogs(id, 0n, 100, "a")), [1n, 3n, 5n]);
    assertEquals(seqs(await store.readLogs(id, 1n, 1, "a")), [3n]);
    assertEquals(await store.readLogs(id, 5n, 10), []);
    assertEquals(await store.readLogs(id, 5n, 10, "b"), []);
    await assertRejects(() => store.appendLogs(runId(), [logLine("a", "x")]), notFound);
    await assertRejects(() => store.readLogs(runId(), 0n, 10), notFound);
    await assertRejects(() => store.readLogs(runId(), 0n, 10, "a"), notFound);
  });

  test("locks: acquire, re-acquire, refuse, release", async ({ store }) => {
    const [a, b] = [runId(), runId()];
    const before = Date.now();
    assertEquals(await store.tryAcquireLock("deploy/prod", a), { acquired: true });
    assertEquals(await store.tryAcquireLock("deploy/prod", a), { acquired: true });
    assertEquals(await store.tryAcquireLock("db", a), { acquired: true });
    const refused = await store.tryAcquireLock("deploy/prod", b);
    assert(!refused.acquired);
    assertEquals([refused.holder.name, refused.holder.runId], ["deploy/prod", a]);
    assert(refused.holder.since >= before - 1000 && refused.holder.since <= Date.now() + 1000);
    assertEquals(await store.tryAcquireLock("cache", b), { acquired: true });
    assertEquals((await store.listLocks()).map((l) => [l.name, l.runId]), [
      ["cache", b],
      ["db", a],
      ["deploy/prod", a],
    ]);
    assertEquals(await store.releaseLock("deploy/prod", b), false);
    assertEquals(await store.releaseLock("deploy/prod", a), true);
    assertEquals(await store.releaseLock("deploy/prod", a), false);
    assertEquals(await store.tryAcquireLock("deploy/prod", b), { acquired: true });
    assertEquals((await store.releaseLocks(b)).sort(), ["cache", "deploy/prod"]);
    assertEquals(await store.releaseLocks(b), []);
    assertEquals((await store.listLocks()).map((l) => l.name), ["db"]);
    const long = "x".repeat(500);
    assertEquals(await store.tryAcquireLock(long, b), { acquired: true });
    assertEquals((await store.listLocks()).map((l) => l.name), ["db", long]);
  });

  test("everything written is there after reopening", async (f) => {
    const run = await create(f.store, { status: RunStatus.RUNNING });
    const id = run.shape.id;
    const s = summary({ ...run.shape, status: RunStatus.SUSPENDED });
    await f.store.append({ runId: id, expectedSeq: 1n, events: events(id, 1n, 2), summary: s });
    await f.store.appendLogs(id, [logLine("a", "hello")]);
    await f.store.tryAcquireLock("l", id);
    await f.store.close();
    const again = await f.reopen();
    const loaded = await again.loadRun(id);
    assertEquals(loaded?.snapshot, run.snapshot);
    assertEquals(seqs(loaded!.tail), [2n, 3n]);
    assertEquals((await again.listRuns({ limit: 5 })).runs, [s]);
    assertEquals(await again.listActiveRuns(), [s]);
    assertEquals(await again.findRunIds(id.slice(0, 8), 5), [id]);
    assertEquals((await again.readLogs(id, 0n, 5)).map((l) => l.text), ["hello"]);
    assertEquals((await again.listLocks()).map((l) => [l.name, l.runId]), [["l", id]]);
    await again.append({ runId: id, expectedSeq: 3n, events: events(id, 3n, 1), summary: s });
    assertEquals(await again.appendLogs(id, [logLine("a", "again")]), [2n]);
  });

  tokenContract(test);
  workerTokenContract(test);
  leaseContract(test);
  dataContract(test);
  pruneContract(test);
  growingRunContract(test);
  processContract(name, open, oneProcess);
}
