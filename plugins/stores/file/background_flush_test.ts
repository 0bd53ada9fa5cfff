// The file store's flushes off the writer's path (decision 0034): an append
// made with flushLater returns before its fdatasync, `flushed` waits for it,
// and a flush that fails is reported to the next `flushed`, once.
import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema, RunEventSchema } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertRejects } from "../../../test/helpers/mod.ts";
import { storeNewRun } from "../../../test/helpers/stores.ts";
import { BackgroundFlushes } from "./background_flush.ts";
import { openFileStore } from "./mod.ts";

Deno.test("appends made with flushLater are stored in order; flushed and close resolve", async () => {
  const root = await Deno.makeTempDir({ prefix: "swamp-flush-" });
  try {
    const store = await openFileStore(`${root}/.swamp`); // flushing on, as users run it
    const runId = await storeNewRun(store, { workflowName: "w", status: RunStatus.RUNNING });
    for (let seq = 2n; seq <= 50n; seq++) {
      await store.append({
        runId,
        expectedSeq: seq - 1n,
        events: [create(RunEventSchema, {
          runId,
          seq,
          payload: { case: "heartbeat", value: create(HeartbeatSchema, {}) },
        })],
        summary: create(RunSummarySchema, { id: runId, workflowName: "w", status: 2 }),
        flushLater: true,
      });
    }
    await store.flushed!(runId);
    assertEquals((await store.readEvents(runId, 0n)).length, 50);
    await store.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a flush that fails is reported by the next flushed, once, and later flushes still run", async () => {
  const flushes = new BackgroundFlushes();
  const missing = "/nonexistent/events.jsonl";
  const notFound = (e: unknown) => e instanceof Deno.errors.NotFound;
  flushes.schedule("run-1", missing);
  await assertRejects(() => flushes.flushed("run-1"), notFound);
  await flushes.flushed("run-1");
  const file = await Deno.makeTempFile();
  try {
    flushes.schedule("run-1", file);
    flushes.schedule("run-1", file); // while the first is under way: one more round
    await flushes.flushed("run-1");
    flushes.schedule("run-1", missing);
    await assertRejects(() => flushes.flushed("run-1"), notFound);
    // Nobody waits on the barrier: the run's next write flushed on the spot is told instead.
    flushes.schedule("run-1", missing);
    await flushes.settle();
    assertEquals(notFound(flushes.takeFailure("run-1")), true);
    assertEquals(flushes.takeFailure("run-1"), undefined);
  } finally {
    await Deno.remove(file);
  }
});
