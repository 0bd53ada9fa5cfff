// A worker's window of unacknowledged updates, with a real step process on
// the loopback executor: a step that prints far more than the window while
// nothing is acknowledged is held at the window (it blocks on its own
// output, the worker's memory does not grow), and once acks come every line
// arrives exactly once, in order, before its exit.
import { create } from "@bufbuild/protobuf";
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { eventually } from "../../test/helpers/runs.ts";
import { AssignmentSchema, type LeaseUpdate } from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { createLoopbackExecutor } from "../../plugins/executors/loopback/mod.ts";
import { LeaseBook, unackedWindow } from "./leases.ts";

const lines = 3 * unackedWindow.updates;

Deno.test("a worker holds a step at its unacknowledged window and resends nothing twice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-lease-window-" });
  const sent: LeaseUpdate[] = [];
  let exited = false;
  const book = new LeaseBook(
    new Map([["loopback", createLoopbackExecutor()]]),
    {
      send: (update) => void sent.push(update),
      finished: () => void (exited = true),
    },
    dir,
  );
  try {
    book.start(create(AssignmentSchema, {
      leaseId: "l1",
      epoch: 1n,
      runId: "r1",
      stepId: "main/loud",
      attempt: 1,
      work: {
        command: { case: "script", value: `seq 1 ${lines}` },
        timeoutMs: 0n,
        graceMs: 1000n,
        outputLimitBytes: 1024n,
      },
    }));
    const lease = book.held.get("l1")!;
    // Nothing acknowledged: the reporting stops at the window and stays there.
    await eventually(
      "the window to fill",
      () => Promise.resolve(lease.unacked.length >= unackedWindow.updates || undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertEquals(lease.unacked.length, unackedWindow.updates, "held at the window");
    assertEquals(exited, false, "the step waits on its output");

    // Acknowledge as an orchestrator does, in batches, until the step has exited.
    await eventually("every update and the exit", () => {
      const last = sent.at(-1);
      if (last) book.acked("l1", last.seq);
      return Promise.resolve(exited && book.held.size === 0 ? true : undefined);
    }, 60_000);
    const output = sent.filter((u) => u.kind.case === "output")
      .map((u) => u.kind.case === "output" ? u.kind.value.line : "");
    assertEquals(output.length, lines);
    assert(output.every((line, i) => line === String(i + 1)), "every line once, in order");
    assertEquals(sent.map((u) => u.seq), sent.map((_, i) => BigInt(i + 1)), "no seq twice");
    assertEquals(sent.at(-1)?.kind.case, "exited");
  } finally {
    book.cancelAll();
    await book.idle(10_000);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker assigned past its concurrency runs the rest one by one, and a waiting step cancels at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-lease-slots-" });
  const sent: LeaseUpdate[] = [];
  const book = new LeaseBook(
    new Map([["loopback", createLoopbackExecutor()]]),
    { send: (update) => void sent.push(update), finished: () => {} },
    dir,
  );
  book.concurrency = 1;
  // Each step takes a lock directory: a second one running beside it would find it taken.
  const script = `mkdir ${dir}/lock || exit 9; sleep 0.3; rmdir ${dir}/lock`;
  const assign = (leaseId: string) =>
    book.start(create(AssignmentSchema, {
      leaseId,
      epoch: 1n,
      runId: "r1",
      stepId: `main/${leaseId}`,
      attempt: 1,
      work: {
        command: { case: "script", value: script },
        timeoutMs: 0n,
        graceMs: 1000n,
        outputLimitBytes: 1024n,
      },
    }));
  const exitOf = (leaseId: string) => {
    const update = sent.find((u) => u.leaseId === leaseId && u.kind.case === "exited");
    return update?.kind.case === "exited" ? update.kind.value : undefined;
  };
  try {
    for (const id of ["a", "b", "c", "d"]) assign(id);
    // Assigned, not started: its cancel ends it without running it.
    book.cancel("d");
    await eventually("every step to exit", () => {
      return Promise.resolve(["a", "b", "c", "d"].every((id) => exitOf(id)) || undefined);
    }, 30_000);
    for (const id of ["a", "b", "c"]) assertEquals(exitOf(id)?.exitCode, 0, `step ${id}`);
    assertEquals(exitOf("d")?.cancelled, true);
    const started = sent.filter((u) => u.kind.case === "started").map((u) => u.leaseId);
    assertEquals(started.sort(), ["a", "b", "c"], "the cancelled step never started");
  } finally {
    book.cancelAll();
    await book.idle(10_000);
    await Deno.remove(dir, { recursive: true });
  }
});
