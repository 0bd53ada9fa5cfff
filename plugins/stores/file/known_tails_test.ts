// An append that skips reading the tail and summary.json (what this store
// instance last wrote is still there) must never miss another writer's work.
// Two instances on one directory are two processes as far as the files go.
import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema, RunEventSchema } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { type RunStore, StoreConflict } from "../../../runtime/mod.ts";
import { assertEquals, assertRejects } from "../../../test/helpers/mod.ts";
import { storeNewRun, tempFileStore } from "../../../test/helpers/stores.ts";
import { Layout } from "./paths.ts";

function beat(runId: string, seq: bigint) {
  return create(RunEventSchema, {
    runId,
    seq,
    payload: { case: "heartbeat", value: create(HeartbeatSchema, {}) },
  });
}

function appendBeat(store: RunStore, runId: string, after: bigint, status: RunStatus) {
  return store.append({
    runId,
    expectedSeq: after,
    events: [beat(runId, after + 1n)],
    summary: create(RunSummarySchema, { id: runId, workflowName: "w", status }),
  });
}

Deno.test("an append after another writer's sees its events, its summary and a torn line", async () => {
  await using temp = await tempFileStore();
  const a = temp.store;
  const b = await temp.reopen();
  const runId = await storeNewRun(a, { workflowName: "w", status: RunStatus.RUNNING });
  const layout = new Layout(temp.dir);
  const activeIds = async (store: RunStore) => (await store.listActiveRuns()).map((s) => s.id);

  await appendBeat(a, runId, 1n, RunStatus.RUNNING);
  await appendBeat(b, runId, 2n, RunStatus.CANCELLED);
  assertEquals(await activeIds(a), [], "b's summary ended the run");
  // a's own last append (seq 2) is not taken for the tail.
  await assertRejects(
    () => appendBeat(a, runId, 2n, RunStatus.RUNNING),
    (error) => error instanceof StoreConflict && error.actualSeq === 3n,
  );
  await appendBeat(a, runId, 3n, RunStatus.RUNNING);
  assertEquals(await activeIds(b), [runId], "a's summary replaced b's, active again");
  assertEquals(
    JSON.parse(await Deno.readTextFile(layout.summary(runId))).summary.status,
    "RUN_STATUS_RUNNING",
  );

  // A writer killed mid-line leaves a torn line after a's last append.
  const torn = `{"runId":"${runId}","seq":"5","heartb`;
  await Deno.writeTextFile(layout.events(runId), torn, { append: true });
  await appendBeat(a, runId, 4n, RunStatus.RUNNING);
  const text = await Deno.readTextFile(layout.events(runId));
  assertEquals(text.includes("heartb\n") || text.includes(`"heartb{`), false, "torn line cut");
  assertEquals((await b.readEvents(runId, 0n)).map((e) => e.seq), [1n, 2n, 3n, 4n, 5n]);

  // And from its own last write on, a goes on without reading: seqs keep counting.
  for (let seq = 5n; seq < 25n; seq++) await appendBeat(a, runId, seq, RunStatus.RUNNING);
  assertEquals((await b.readEvents(runId, 20n)).map((e) => e.seq), [21n, 22n, 23n, 24n, 25n]);
});
