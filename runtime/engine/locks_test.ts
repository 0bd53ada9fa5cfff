import { create } from "@bufbuild/protobuf";
import {
  OwnerChangedSchema,
  RunCreatedSchema,
  RunEventSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { OwnerSchema, RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertRejects } from "../../test/helpers/assert.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { systemClock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { OwnershipLost } from "../run/fencing.ts";
import { summarize } from "../run/fold.ts";
import { type EventDraft, RunJournal } from "../run/journal.ts";
import { RunStatus } from "../run/status.ts";
import type { EngineDeps } from "./deps.ts";
import { LockKeeper } from "./locks.ts";

const runId = "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f";
const otherRun = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const model = "model:command/shell/db";

function claim(pid: number, epoch: bigint, host = "here"): EventDraft {
  const owner = create(OwnerSchema, { host, pid, processStart: "1", epoch });
  return { payload: { case: "ownerChanged", value: create(OwnerChangedSchema, { owner }) } };
}

/** A running run owned (epoch 1) by the journal returned, and its lock keeper. */
async function ownedRun(store: RunStore) {
  const run = create(RunSchema, { id: runId, status: RunStatus.RUNNING, revision: 1n });
  const first = create(RunEventSchema, {
    runId,
    seq: 1n,
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);
  const journal = await RunJournal.open(store, runId, systemClock, "owner");
  await journal.append(claim(Deno.pid, 1n));
  const deps = { store, pollMs: 10 } as unknown as EngineDeps;
  return { journal, locks: new LockKeeper(deps, journal) };
}

/** The lock events of the run's log, as `[lock, held]`. */
async function lockLog(store: RunStore): Promise<[string, boolean][]> {
  return (await store.readEvents(runId, 0n)).flatMap((e) =>
    e.payload.case === "lockChanged" ? [[e.payload.value.lock, e.payload.value.held]] : []
  );
}

/** Ends a step with nothing but what the keeper gives to write, and returns that. */
async function endStep(locks: LockKeeper, journal: RunJournal, stepId: string) {
  let given: EventDraft[] = [];
  await locks.stepEnded(stepId, (drafts) => {
    given = drafts;
    return journal.append(...drafts);
  });
  return given.map((d) => d.payload.case === "lockChanged" && d.payload.value.held);
}

const signal = new AbortController().signal;

Deno.test("a model lock is given back when the last step of the run using it ends", async () => {
  await using temp = await tempFileStore();
  const { journal, locks } = await ownedRun(temp.store);
  assertEquals(await locks.acquire(model, "main/a", signal), true);
  assertEquals(await locks.acquire(model, "main/b", signal), true);
  assertEquals(await lockLog(temp.store), [], "taking it is written with the next append");
  assertEquals(await endStep(locks, journal, "main/a"), []);
  assertEquals(await lockLog(temp.store), [[model, true]]);
  assertEquals((await temp.store.tryAcquireLock(model, otherRun)).acquired, false);
  assertEquals(journal.run.locks, [model]);
  assertEquals(await endStep(locks, journal, "main/b"), [false]);
  assertEquals(journal.run.locks, []);
  assertEquals(await temp.store.tryAcquireLock(model, otherRun), { acquired: true });
  assertEquals(await lockLog(temp.store), [[model, true], [model, false]]);
});

Deno.test("a later step of the run takes the model lock again; named locks stay until the run ends", async () => {
  await using temp = await tempFileStore();
  const { journal, locks } = await ownedRun(temp.store);
  await locks.acquire("lock:deploy", "", signal);
  await locks.acquire(model, "main/a", signal);
  await endStep(locks, journal, "main/a");
  await locks.acquire(model, "main/b", signal);
  assertEquals((await temp.store.tryAcquireLock(model, otherRun)).acquired, false);
  await endStep(locks, journal, "main/b");
  assertEquals(journal.run.locks, ["lock:deploy"]);
  assertEquals((await temp.store.tryAcquireLock("lock:deploy", otherRun)).acquired, false);
  assertEquals(await endStep(locks, journal, "main/c"), []);
  await locks.releaseAll();
  assertEquals(journal.run.locks, []);
  assertEquals(await lockLog(temp.store), [
    ["lock:deploy", true],
    [model, true],
    [model, false],
    [model, true],
    [model, false],
    ["lock:deploy", false],
  ]);
});

Deno.test("a step taking the lock while another gives it back ends up holding it", async () => {
  await using temp = await tempFileStore();
  const { journal, locks } = await ownedRun(temp.store);
  await locks.acquire(model, "main/a", signal);
  await Promise.all([endStep(locks, journal, "main/a"), locks.acquire(model, "main/b", signal)]);
  assertEquals((await temp.store.tryAcquireLock(model, otherRun)).acquired, false);
  await journal.append(); // b's start, say, which writes b's taking of the lock
  assertEquals(journal.run.locks, [model]);
  assertEquals(await endStep(locks, journal, "main/b"), [false]);
  assertEquals(await temp.store.tryAcquireLock(model, otherRun), { acquired: true });
});

Deno.test("an owner replaced before its step ends frees no lock", async () => {
  await using temp = await tempFileStore();
  const { journal, locks } = await ownedRun(temp.store);
  await locks.acquire(model, "main/a", signal);
  const other = await RunJournal.open(await temp.reopen(), runId, systemClock, "ada");
  await other.append(claim(4242, 2n, "elsewhere"));
  await assertRejects(
    () => locks.stepEnded("main/a", (drafts) => journal.append(...drafts)),
    (error) => error instanceof OwnershipLost,
  );
  assertEquals((await temp.store.tryAcquireLock(model, otherRun)).acquired, false);
  assertEquals(await lockLog(temp.store), [], "not even its taking, kept for its next append");
});
