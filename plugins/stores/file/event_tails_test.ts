import { fromJson, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { type RunEvent, RunEventSchema } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { assertEquals } from "../../../test/helpers/mod.ts";
import { seeded } from "../../../test/helpers/random.ts";
import { decodeEvent, encodeEvent } from "./codec.ts";
import { EventTails } from "./event_tails.ts";
import { readAfter } from "./jsonl.ts";

const event = (seq: number): RunEvent =>
  fromJson(RunEventSchema, {
    seq: String(seq),
    time: "2026-12-06T06:00:00Z",
    heartbeat: {},
    reason: `event ${seq} ${"x".repeat(seq % 97)}`,
  } as JsonObject);

const line = (seq: number) => encodeEvent(event(seq)) + "\n";
const bytes = (events: RunEvent[] | undefined) =>
  events?.map((e) => Array.from(toBinary(RunEventSchema, e)).join(","));

/** What the tails say for `afterSeq` equals a whole read of the log (the oracle). */
function same(tails: EventTails, path: string, afterSeq: bigint, what: string): void {
  const expected = readAfter(path, { afterSeq, accept: decodeEvent });
  assertEquals(bytes(tails.read("run", path, afterSeq, decodeEvent)), bytes(expected), what);
}

Deno.test("a log read on as it grows gives what a whole read gives: batches, torn lines finished later, snapshots moving on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/events.jsonl`;
    Deno.writeTextFileSync(path, "");
    const tails = new EventTails();
    const random = seeded(7);
    let seq = 0;
    let afterSeq = 0n;
    let torn = "";
    for (let round = 0; round < 400; round++) {
      // A line a writer is still writing: its first part now, the rest with the next batch.
      const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => line(++seq)).join(
        "",
      );
      const cut = random() < 0.3 ? Math.floor(random() * batch.length) : batch.length;
      Deno.writeTextFileSync(path, torn + batch.slice(0, cut), { append: true });
      torn = "";
      if (cut < batch.length) {
        same(tails, path, afterSeq, `round ${round}, torn`);
        torn = batch.slice(cut);
      }
      if (random() < 0.1) afterSeq = BigInt(Math.max(0, seq - Math.floor(random() * 10)));
      if (torn === "") same(tails, path, afterSeq, `round ${round}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a log replaced, cut shorter or rewritten in place is read again from its start; a log gone is none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/events.jsonl`;
    const write = (seqs: number[], file = path) =>
      Deno.writeTextFileSync(file, seqs.map(line).join(""));
    const tails = new EventTails();
    write([1, 2, 3, 4, 5]);
    same(tails, path, 0n, "first read");
    // Replaced by rename: another inode.
    write([1, 2, 3, 7, 8, 9], `${dir}/next`);
    Deno.renameSync(`${dir}/next`, path);
    same(tails, path, 0n, "replaced");
    // Cut shorter in place.
    Deno.truncateSync(path, line(1).length + line(2).length);
    same(tails, path, 0n, "cut");
    // Rewritten in place, longer, with seqs that do not follow what was read: what was read ends
    // where a line starts, then mid-line.
    write([1, 2, 3, 4, 5]);
    same(tails, path, 0n, "read to seq 5");
    write([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    same(tails, path, 0n, "rewritten, at a line's start");
    write([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34]);
    same(tails, path, 1n, "rewritten, mid-line");
    Deno.removeSync(path);
    assertEquals(tails.read("run", path, 0n, decodeEvent), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
