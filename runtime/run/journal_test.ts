import { create } from "@bufbuild/protobuf";
import {
  CancelRequestedSchema,
  HeartbeatSchema,
  OwnerChangedSchema,
  RunCreatedSchema,
  type RunEvent,
  RunEventSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  ActorKind,
  JobSchema,
  OwnerSchema,
  RunSchema,
  StepSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { assert, assertEquals, assertRejects } from "../../test/helpers/assert.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { ErrorCode } from "../errors/mod.ts";
import { systemClock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { OwnershipLost } from "./fencing.ts";
import { summarize } from "./fold.ts";
import { type EventDraft, RunJournal } from "./journal.ts";
import { JobStatus, RunStatus, StepStatus } from "./status.ts";

const runId = "0b0e5c1e-7d5a-4c1b-9f0e-2a6f3c4d5e6f";

/** A pending run with one job of two steps, written to `store`. */
async function newRun(store: RunStore): Promise<void> {
  const run = create(RunSchema, {
    id: runId,
    workflowName: "w",
    status: RunStatus.PENDING,
    attempt: 1,
    jobs: [create(JobSchema, { name: "main", status: JobStatus.PENDING })],
    steps: ["a", "b"].map((name) =>
      create(StepSchema, {
        id: `main/${name}`,
        name,
        job: "main",
        status: StepStatus.PENDING,
        itemIndex: -1,
      })
    ),
    revision: 1n,
  });
  const first = create(RunEventSchema, {
    runId,
    seq: 1n,
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);
}

function claim(pid: number, epoch: bigint, host = "here"): EventDraft {
  const owner = create(OwnerSchema, { host, pid, processStart: "1", epoch });
  return { payload: { case: "ownerChanged", value: create(OwnerChangedSchema, { owner }) } };
}

const runChange = (from: RunStatus, to: RunStatus): EventDraft => ({
  payload: { case: "runStatusChanged", value: create(RunStatusChangedSchema, { from, to }) },
});

const stepChange = (stepId: string, from: StepStatus, to: StepStatus): EventDraft => ({
  payload: {
    case: "stepStatusChanged",
    value: create(StepStatusChangedSchema, { stepId, from, to }),
  },
});

const heartbeat: EventDraft = {
  payload: { case: "heartbeat", value: create(HeartbeatSchema, {}) },
};

/** Every event of the run, as `[actor, epoch, case, detail]`. */
async function logOf(store: RunStore): Promise<[string, bigint, string, string][]> {
  const detail = (event: RunEvent) => {
    const p = event.payload;
    if (p.case === "runStatusChanged") return `run ${p.value.to}`;
    if (p.case === "stepStatusChanged") return `${p.value.stepId} ${p.value.to}`;
    if (p.case === "ownerChanged") return `epoch ${p.value.owner?.epoch}`;
    return "";
  };
  return (await store.readEvents(runId, 0n)).map((e) => [
    e.actor,
    e.ownerEpoch,
    e.payload.case ?? "",
    detail(e),
  ]);
}

/** An owner (epoch 1) that started the run, and a second writer on another store instance. */
async function ownerAndOther(store: RunStore, other: RunStore) {
  await newRun(store);
  const owner = await RunJournal.open(store, runId, systemClock, "owner");
  await owner.append(claim(Deno.pid, 1n));
  assertEquals(owner.ownerEpoch, 1n);
  await owner.append(runChange(RunStatus.PENDING, RunStatus.RUNNING));
  return { owner, otherJournal: await RunJournal.open(other, runId, systemClock, "ada") };
}

Deno.test("on a conflict an owner re-decides: it drops a transition another writer made moot", async () => {
  await using temp = await tempFileStore();
  const { owner, otherJournal } = await ownerAndOther(temp.store, await temp.reopen());
  await otherJournal.append(
    { payload: { case: "cancelRequested", value: create(CancelRequestedSchema, {}) } },
    runChange(RunStatus.RUNNING, RunStatus.CANCELLING),
  );
  // Drafted against a record that has not seen the cancel.
  const written = await owner.append(
    stepChange("main/a", StepStatus.PENDING, StepStatus.RUNNING),
    runChange(RunStatus.RUNNING, RunStatus.SUCCEEDED),
  );
  assertEquals(written.length, 1);
  assertEquals(owner.run.status, RunStatus.CANCELLING);
  assertEquals((await logOf(temp.store)).slice(3), [
    ["ada", 0n, "cancelRequested", ""],
    ["ada", 0n, "runStatusChanged", `run ${RunStatus.CANCELLING}`],
    ["owner", 1n, "stepStatusChanged", `main/a ${StepStatus.RUNNING}`],
  ]);
  const summary = (await temp.store.listRuns({ limit: 1 })).runs[0];
  assertEquals(summary.status, RunStatus.CANCELLING);
});

Deno.test("writes queued behind one in flight are checked against the record they land on", async () => {
  await using temp = await tempFileStore();
  const { owner, otherJournal } = await ownerAndOther(temp.store, await temp.reopen());
  await otherJournal.append(runChange(RunStatus.RUNNING, RunStatus.CANCELLING));
  // The first conflicts and refreshes; the other two are committed together after it.
  const [first, finish, start] = await Promise.all([
    owner.append(heartbeat),
    owner.append(runChange(RunStatus.RUNNING, RunStatus.SUCCEEDED)),
    owner.append(
      stepChange("main/b", StepStatus.PENDING, StepStatus.RUNNING),
      stepChange("main/b", StepStatus.RUNNING, StepStatus.SUCCEEDED),
    ),
  ]);
  assertEquals([first.length, finish.length, start.length], [1, 0, 2]);
  assertEquals(owner.run.status, RunStatus.CANCELLING);
  assertEquals(owner.run.steps[1].status, StepStatus.SUCCEEDED);
  assert(start.every((event) => event.ownerEpoch === 1n));
});

Deno.test("an owner whose run was claimed since stops and writes nothing more", async () => {
  await using temp = await tempFileStore();
  const { owner, otherJournal } = await ownerAndOther(temp.store, await temp.reopen());
  await otherJournal.append(claim(4242, 2n, "elsewhere"));
  assertEquals(otherJournal.ownerEpoch, 2n);
  const before = await logOf(temp.store);
  let decided = 0;
  const lost = (error: unknown) =>
    error instanceof OwnershipLost && error.code === ErrorCode.STALE_LEASE &&
    error.heldEpoch === 1n && error.currentEpoch === 2n;
  await assertRejects(() =>
    owner.write(() => {
      decided++;
      return [stepChange("main/a", StepStatus.PENDING, StepStatus.RUNNING)];
    }), lost);
  // Decided once against the old record; after the conflict it read the claim and stopped.
  assertEquals(decided, 1);
  await assertRejects(() => owner.append(heartbeat), lost);
  assertEquals(decided, 1);
  assertEquals(await logOf(temp.store), before);
  assertEquals(owner.run.owner?.host, "elsewhere");
  // The new owner's writes carry its epoch and fold as usual.
  await otherJournal.append(stepChange("main/a", StepStatus.PENDING, StepStatus.RUNNING));
  assertEquals((await logOf(temp.store)).at(-1), [
    "ada",
    2n,
    "stepStatusChanged",
    `main/a ${StepStatus.RUNNING}`,
  ]);
});

Deno.test("every event records how its actor was identified", async () => {
  await using temp = await tempFileStore();
  await newRun(temp.store);
  const byToken = await RunJournal.open(temp.store, runId, systemClock, "ci", ActorKind.TOKEN);
  await byToken.append(
    { payload: { case: "cancelRequested", value: create(CancelRequestedSchema, {}) } },
    // A draft that names swamp itself is swamp's, whoever's journal writes it.
    {
      actor: "system",
      payload: { case: "heartbeat", value: create(HeartbeatSchema, {}) },
    },
  );
  const events = await temp.store.readEvents(runId, 1n);
  assertEquals(events.map((e) => [e.actor, e.actorKind]), [
    ["ci", ActorKind.TOKEN],
    ["system", ActorKind.SYSTEM],
  ]);
  const bySystem = await RunJournal.open(temp.store, runId, systemClock, "system");
  assertEquals(bySystem.actorKind, ActorKind.SYSTEM);
});
