// The file store's lease logs (decision 0035) against what the store
// contract cannot see: a line half written, what a crash leaves, another
// process's appends and rewrites, and leases of the layout before the logs.
// Each store opened on one directory keeps its own reading of the logs, as
// another process would.
import { openFileStore } from "./mod.ts";
import { encodedFileName } from "./paths.ts";
import type { AcquireLease, RunStore } from "../../../runtime/mod.ts";
import { assert, assertEquals } from "../../../test/helpers/mod.ts";

const t0 = new Date(1_700_000_000_000);
const at = (ms: number) => new Date(t0.getTime() + ms);
const request = (runId: string, stepId: string): AcquireLease => ({
  runId,
  stepId,
  attempt: 1,
  workerId: "w1",
  now: t0,
  expireTime: at(15_000),
});
const runName = (runId: string) => encodedFileName(runId).slice(0, -".json".length);

async function twoStores(): Promise<
  { dir: string; a: RunStore; b: RunStore } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-lease-log-" });
  const a = await openFileStore(dir);
  const b = await openFileStore(dir);
  return {
    dir,
    a,
    b,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const logOf = (dir: string, runId: string) => `${dir}/leases/${runName(runId)}.jsonl`;

Deno.test("lease log: a line not yet whole is not read, and what a crash left of one is cut off by the next change", async () => {
  await using t = await twoStores();
  const first = await t.a.acquireLease(request("run-torn", "one"));
  const log = logOf(t.dir, "run-torn");
  // A line a machine crash cut short, then the beginning of one being written.
  await Deno.writeTextFile(
    log,
    `{"id":"run-torn/one#9.0000\n{"id":"run-torn/two#1${" ".repeat(2000)}`,
    {
      append: true,
    },
  );
  assertEquals(await t.b.getLease(first.id), first);
  assertEquals(await t.b.listLeases({ runId: "run-torn" }), [first]);
  // The lock is free: the unfinished line is debris, and the next change goes after the last whole one.
  const second = await t.b.acquireLease(request("run-torn", "two"));
  assertEquals(second.epoch, 1n);
  const lines = (await Deno.readTextFile(log)).split("\n");
  assertEquals(lines.at(-1), "", "the log ends with a whole line");
  assertEquals(lines.filter((line) => line.includes('"run-torn/two#1"')).length, 0);
  assertEquals(await t.a.listLeases({ runId: "run-torn" }), [first, second]);
  assertEquals(await t.a.getLease(second.id), second);
});

Deno.test("lease log: another process's appends and rewrites are read, and renewals do not grow the log without bound", async () => {
  await using t = await twoStores();
  const lease = await t.a.acquireLease(request("run-renewed", "long"));
  const other = await t.a.acquireLease(request("run-renewed", "short"));
  const log = logOf(t.dir, "run-renewed");
  let renewals = 0;
  const renew = async () => {
    renewals += 1;
    assertEquals(await t.a.renewLeases("w1", [lease.id], at(15_000 + renewals)), [lease.id]);
  };
  for (let i = 0; i < 20; i++) await renew();
  assertEquals((await t.b.getLease(lease.id))?.expireTime, at(15_000 + renewals));
  assertEquals((await t.b.getLease(other.id))?.state, "active");
  const read = await Deno.stat(log);
  // Changed after the other store's last reading, then rewritten into a log longer than it read.
  assertEquals(await t.a.releaseLease(other.id), true);
  let now = await Deno.stat(log);
  while (now.ino === read.ino || now.size <= read.size) {
    await renew();
    now = await Deno.stat(log);
    assert(renewals < 1000, "the log was never rewritten");
  }
  assertEquals((await t.b.getLease(other.id))?.state, "released");
  assertEquals((await t.b.getLease(lease.id))?.expireTime, at(15_000 + renewals));
  for (let i = 0; i < 300; i++) await renew();
  const lines = (await Deno.readTextFile(log)).trimEnd().split("\n").length;
  assert(lines <= 65, `${lines} lines for two leases`);
  assertEquals((await t.b.getLease(lease.id))?.expireTime, at(15_000 + renewals));
  assertEquals((await t.a.acquireLease(request("run-renewed", "short"))).epoch, 2n);
});

Deno.test("lease log: leases kept in the layout before the logs are read, changed and fenced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-lease-legacy-" });
  try {
    const runId = "run-legacy";
    const id = `${runId}/job/step#3.0a0b0c0d`;
    const legacyDir = `${dir}/leases/${runName(runId)}`;
    await Deno.mkdir(legacyDir, { recursive: true });
    await Deno.writeTextFile(
      `${legacyDir}/${encodedFileName("job/step")}`,
      JSON.stringify({
        id,
        runId,
        stepId: "job/step",
        attempt: 2,
        epoch: "3",
        workerId: "w1",
        createMs: t0.getTime(),
        expireMs: at(15_000).getTime(),
        hasWritten: false,
        state: "active",
      }) + "\n",
    );
    const store = await openFileStore(dir);
    try {
      const old = await store.getLease(id);
      assertEquals([old?.epoch, old?.attempt, old?.state], [3n, 2, "active"]);
      assertEquals((await store.listLeases({ workerId: "w1" })).map((l) => l.id), [id]);
      assertEquals(await store.renewLeases("w1", [id], at(30_000)), [id]);
      assertEquals(await store.markLeaseWritten(id), true);
      const changed = await store.getLease(id);
      assertEquals([changed?.expireTime, changed?.hasWritten], [at(30_000), true]);
      const next = await store.acquireLease({ ...request(runId, "job/step"), attempt: 3 });
      assertEquals(next.epoch, 4n);
      assertEquals(await store.getLease(id), undefined);
      assertEquals((await store.listLeases({ runId })).map((l) => l.id), [next.id]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
