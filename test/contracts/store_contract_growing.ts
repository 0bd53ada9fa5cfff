// A run read over and over while it grows (a running run's GetRun): a store
// may remember what it read and read on from there, but every load must give
// what a store opened afresh gives, across new events and new snapshots.
import { toBinary } from "@bufbuild/protobuf";
import { RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { StoredRun } from "../../runtime/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import type { StoreTest } from "./store_contract_tokens.ts";
import { events, newRun, snapshotAt, summary } from "./store_messages.ts";

/** A loaded run as bytes, to compare two loads exactly. */
function encoded(run: StoredRun | undefined): string[] {
  assert(run, "the run loads");
  return [
    String(toBinary(RunSchema, run.snapshot)),
    ...run.tail.map((event) => String(toBinary(RunEventSchema, event))),
  ];
}

export function growingRunContract(test: StoreTest): void {
  test("a run loaded again and again while another connection appends loads as a fresh store loads it", async (f) => {
    const run = newRun();
    await f.store.createRun(run.first, run.summary, run.snapshot);
    const id = run.shape.id;
    const writer = await f.reopen();
    let seq = 1n;
    for (let round = 0; round < 40; round++) {
      const count = 1 + (round % 3);
      // Now and then the writer snapshots, as a journal does every so many events.
      const snapshot = round % 9 === 8 ? snapshotAt(run.shape, seq + BigInt(count)) : undefined;
      await writer.append({
        runId: id,
        expectedSeq: seq,
        events: events(id, seq, count, `round ${round}`),
        summary: summary(run.shape),
        snapshot,
      });
      seq += BigInt(count);
      const fresh = await f.reopen();
      assertEquals(
        encoded(await f.store.loadRun(id)),
        encoded(await fresh.loadRun(id)),
        `round ${round}`,
      );
      // Loaded twice with nothing new in between: the same again.
      assertEquals(encoded(await f.store.loadRun(id)), encoded(await fresh.loadRun(id)));
    }
  });
}
