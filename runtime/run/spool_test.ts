import { create } from "@bufbuild/protobuf";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import { storeNewRun, tempFileStore } from "../../test/helpers/stores.ts";
import { SpoolLineSplitter } from "../exec/spool_lines.ts";
import { systemClock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { importSpools, removeSpools, runSpoolDir, spoolName } from "./spool.ts";
import { RunStatus } from "./status.ts";

/** The run as importSpools reads it: its id, and a workflow that reads no secret. */
const runOf = (id: string) => create(RunSchema, { id });

const newRun = (store: RunStore) => storeNewRun(store, { status: RunStatus.RUNNING });

const texts = async (store: RunStore, runId: string) =>
  (await store.readLogs(runId, 0n, 1000)).map((l) =>
    `${l.stepId}/${l.stream}: ${l.text} @${l.spoolOffset}`
  );

Deno.test("importSpools stores the rest of each spool once, even with two importers racing", async () => {
  await using temp = await tempFileStore();
  const other = await temp.reopen();
  const runId = await newRun(temp.store);
  const dir = runSpoolDir(temp.store, runId)!;
  await Deno.mkdir(dir, { recursive: true });
  const name = spoolName("main/build.x", 2);
  await Deno.writeTextFile(`${dir}/${name}.out`, "one\ntwo\nthree\npart");
  await Deno.writeTextFile(`${dir}/${name}.err`, "warn\n");
  // The supervisor had stored the first line before it died.
  await temp.store.appendLogs(runId, [create(LogLineSchema, {
    stepId: "main/build.x",
    stream: "stdout",
    text: "one",
    spool: `${name}.out`,
    spoolOffset: 4n,
  })]);
  const counts = await Promise.all([
    importSpools(temp.store, systemClock, runOf(runId)),
    importSpools(other, systemClock, runOf(runId)),
  ]);
  const again = await importSpools(temp.store, systemClock, runOf(runId));
  assertEquals(counts.reduce((a, b) => a + b) + again, 4);
  assertEquals(await texts(temp.store, runId), [
    "main/build.x/stdout: one @4",
    "main/build.x/stderr: warn @5",
    "main/build.x/stdout: two @8",
    "main/build.x/stdout: three @14",
    "main/build.x/stdout: part @18",
  ]);
  assertEquals(await Deno.stat(dir).then(() => true, () => false), false);
});

Deno.test("importSpools after an importer died mid-way stores only what it had not", async () => {
  await using temp = await tempFileStore();
  const runId = await newRun(temp.store);
  const dir = runSpoolDir(temp.store, runId)!;
  await Deno.mkdir(dir, { recursive: true });
  const name = spoolName("s", 1);
  await Deno.writeTextFile(`${dir}/${name}.out`, "a\nb\nc\n");
  // The dead importer stored "a" and "b" and left its claim (a pid that is gone).
  await temp.store.appendLogs(
    runId,
    ["a", "b"].map((text, i) =>
      create(LogLineSchema, {
        stepId: "s",
        stream: "stdout",
        text,
        spool: `${name}.out`,
        spoolOffset: BigInt(2 * (i + 1)),
      })
    ),
  );
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await Deno.writeTextFile(`${dir}/.import`, String(gone.pid));
  assertEquals(await importSpools(temp.store, systemClock, runOf(runId)), 1);
  assertEquals(await texts(temp.store, runId), [
    "s/stdout: a @2",
    "s/stdout: b @4",
    "s/stdout: c @6",
  ]);
});

Deno.test("SpoolLineSplitter: the same lines and offsets however the bytes arrive; long lines in exact pieces", () => {
  const bytes = new TextEncoder().encode("héllo\r\nworld\n" + "x".repeat(10) + "\nend");
  const whole = new SpoolLineSplitter(100, 4);
  const all = [...whole.push(bytes), ...whole.end()];
  for (const size of [1, 2, 3, 7]) {
    const split = new SpoolLineSplitter(100, 4);
    const got = [];
    for (let i = 0; i < bytes.length; i += size) got.push(...split.push(bytes.slice(i, i + size)));
    got.push(...split.end());
    assertEquals(got, all, `chunks of ${size}`);
  }
  // Each piece's offset is where its bytes end; a re-import from any offset repeats nothing.
  assertEquals(all.map((l) => l.offset).every((o, i, a) => i === 0 || o > a[i - 1]), true);
  assertEquals(all.at(-1)!.offset, 100 + bytes.length);
  assertEquals(all.map((l) => l.text).join(""), "héllo" + "world" + "x".repeat(10) + "end");
});

Deno.test("removeSpools (prune) deletes what a run's spool directory holds", async () => {
  await using temp = await tempFileStore();
  const dir = runSpoolDir(temp.store, "r1")!;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/${spoolName("s", 1)}.out`, "kept\n");
  await removeSpools(temp.store, "r1");
  await removeSpools(temp.store, "r1"); // nothing left: no error
  assertEquals(await Deno.stat(dir).then(() => true, () => false), false);
});

Deno.test("a run that reads vault secrets: what its supervisor had not stored is said missing, not kept unmasked", async () => {
  await using temp = await tempFileStore();
  const runId = await newRun(temp.store);
  const dir = runSpoolDir(temp.store, runId)!;
  await Deno.mkdir(dir, { recursive: true });
  const name = spoolName("s", 1);
  await Deno.writeTextFile(`${dir}/${name}.out`, "the secret is hunter2-xyz\n");
  const run = create(RunSchema, {
    id: runId,
    definition: { run: '${{ vault.get("v", "k") }}' },
  });
  assertEquals(await importSpools(temp.store, systemClock, run), 1);
  const lines = await temp.store.readLogs(runId, 0n, 100);
  assertEquals(lines.map((l) => [l.stream, l.text.includes("hunter2")]), [["system", false]]);
  assertEquals(
    lines[0].text,
    "26 bytes of stdout the step wrote after its supervisor stopped were not kept: the run reads " +
      "vault secrets, which only its supervisor could mask",
  );
  assertEquals(await Deno.stat(dir).then(() => true, () => false), false, "the spool is gone");
});
