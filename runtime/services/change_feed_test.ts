import { create } from "@bufbuild/protobuf";
import { RunCreatedSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { assert, assertEquals } from "../../test/helpers/mod.ts";
import { summarize } from "../run/fold.ts";
import { RunStatus } from "../run/status.ts";
import { ChangeFeed, observedStore } from "./change_feed.ts";

Deno.test("change feed: a waiter wakes on its run's change, not another's; timeouts and aborts end waits", async () => {
  const feed = new ChangeFeed();
  const woken: string[] = [];
  const a = feed.wait("run-a", 60_000).then(() => woken.push("a"));
  const b = feed.wait("run-b", 50).then(() => woken.push("b"));
  assertEquals(feed.size, 2);
  feed.notify("run-a");
  await a;
  assertEquals(woken, ["a"]);
  await b;
  assertEquals(woken, ["a", "b"], "the timeout did not end the wait");
  const abort = new AbortController();
  const c = feed.wait("run-c", 60_000, abort.signal);
  abort.abort();
  await c;
  assertEquals(feed.size, 0, "ended waits stayed registered");
});

Deno.test("observed store: a stored write wakes its run's waiters; a failed write wakes nobody", async () => {
  await using temp = await tempFileStore();
  const feed = new ChangeFeed();
  const store = observedStore(temp.store, feed);
  const runId = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  const run = create(RunSchema, {
    id: runId,
    workflowName: "w",
    status: RunStatus.PENDING,
    revision: 1n,
  });
  const first = create(RunEventSchema, {
    runId,
    seq: 1n,
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);

  let woken = 0;
  const waiting = feed.wait(runId, 60_000, undefined, "logs").then(() => woken++);
  const stale = create(RunEventSchema, { runId, seq: 5n });
  // A conditional append against the wrong seq fails and announces nothing.
  await store.append({ runId, expectedSeq: 4n, events: [stale], summary: summarize(run) })
    .catch(() => {});
  assertEquals([woken, feed.size], [0, 1]);
  await store.appendLogs(runId, [create(LogLineSchema, { stepId: "s", text: "hi" })]);
  await waiting;
  assertEquals([woken, feed.size], [1, 0]);
  assertEquals((await temp.store.readLogs(runId, 0n, 10)).map((l) => l.text), ["hi"]);
  // The line is kept with the seq the store gave it, and the creation event too.
  assertEquals(feed.logsAfter(runId, 0n, 10)?.map((l) => [l.seq, l.text]), [[1n, "hi"]]);
  assertEquals(feed.eventsAfter(runId, 0n, 10)?.map((e) => e.seq), [1n]);
});

Deno.test("change feed memory: only a contiguous continuation is served; a gap sends readers to the store", () => {
  const feed = new ChangeFeed();
  const event = (seq: bigint) => create(RunEventSchema, { runId: "r", seq });
  assertEquals(feed.eventsAfter("r", 0n, 10), undefined);
  feed.rememberEvents("r", [event(1n), event(2n), event(3n)]);
  assertEquals(feed.eventsAfter("r", 0n, 10)?.map((e) => e.seq), [1n, 2n, 3n]);
  assertEquals(feed.eventsAfter("r", 1n, 1)?.map((e) => e.seq), [2n]);
  assertEquals(feed.eventsAfter("r", 3n, 10), undefined, "nothing newer is not an empty answer");
  // Seq 4 came from another process: memory restarts at 5, and a reader at 3 must read the store.
  feed.rememberEvents("r", [event(5n)]);
  assertEquals(feed.eventsAfter("r", 3n, 10), undefined);
  assertEquals(feed.eventsAfter("r", 4n, 10)?.map((e) => e.seq), [5n]);
  // What is kept is a copy: changing the writer's object later changes nothing served.
  const mine = event(6n);
  feed.rememberEvents("r", [mine]);
  mine.reason = "changed afterwards";
  assertEquals(feed.eventsAfter("r", 5n, 10)?.[0].reason, "");
});

Deno.test("change feed: a change stored between a read and the wait is not slept through", async () => {
  const feed = new ChangeFeed();
  const before = feed.version("r");
  feed.notify("r"); // stored after the reader took its version, before it waits
  const waiting = feed.wait("r", 60_000, undefined, "events", before);
  // Checked before awaiting: a wait that parked would be counted here (and would hold for 60 s).
  assertEquals(feed.size, 0, "the wait parked although the run had changed");
  await waiting;
  const parked = feed.wait("r", 60_000, undefined, "events", feed.version("r"));
  assertEquals(feed.size, 1, "a wait with nothing new must park");
  feed.notify("r");
  await parked;
  assertEquals(feed.version("r", "logs"), 0, "a change of events is not one of logs");
});

Deno.test("change feed: every notify moves the version, and notifyAll moves them all and wakes every waiter", async () => {
  const feed = new ChangeFeed();
  const versions = [feed.version("r")];
  feed.notify("r");
  versions.push(feed.version("r"));
  feed.notify("r");
  versions.push(feed.version("r"));
  assertEquals(new Set(versions).size, 3);
  const logs = feed.version("other", "logs");
  const woken = Promise.all([
    feed.wait("r", 3_600_000),
    feed.wait("other", 3_600_000, undefined, "logs"),
  ]);
  feed.notifyAll();
  await woken;
  assertEquals(feed.size, 0);
  assert(feed.version("other", "logs") !== logs);
});
