// A worker process's step log: what a reaper reads back from it after the
// process died at any point, and that it stays small however many steps run.
import { runningInLog, StepLog } from "./step_log.ts";
import { type StepRecord, StepRecords } from "./step_records.ts";
import { processStartTime } from "../../runtime/mod.ts";
import { assert, assertEquals } from "../../test/helpers/mod.ts";

const owner = { pid: 4242, processStart: "987654" };
const record = (leaseId: string): StepRecord => ({
  version: 1,
  leaseId,
  runId: "run-1",
  stepId: leaseId,
  bootId: "boot",
  owner,
  process: { executor: "loopback", pid: 1, pgid: 1, processStart: "1" },
});

Deno.test("step log: a reader finds the steps started and not ended, whatever was cut short", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-step-log-" });
  try {
    const log = new StepLog(`${dir}/steps`, owner);
    log.started(record("a"));
    log.started(record("b"));
    log.ended("a");
    log.started(record("c"));
    // As a reaper would read it after a kill -9 here, and after a machine crash cut a line.
    const text = Deno.readTextFileSync(log.path);
    assertEquals(runningInLog(text).map((r) => r.leaseId), ["b", "c"]);
    // A line cut short is skipped, not taken for the end it began to say.
    assertEquals(runningInLog(text + '{"ended":"b').map((r) => r.leaseId), ["b", "c"]);
    assertEquals(runningInLog(text)[0], record("b"));
    // Closed with steps running, it stays for the next start.
    log.close();
    assertEquals(runningInLog(Deno.readTextFileSync(log.path)).length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("step log: stays small over thousands of steps, and goes when the process stops idle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-step-log-" });
  try {
    const log = new StepLog(`${dir}/steps`, owner);
    // One step always running (an overlap), so the log is never empty of running steps.
    log.started(record("long"));
    for (let i = 0; i < 5000; i++) {
      log.started(record(`s${i}`));
      log.ended(`s${i}`);
      if (i % 997 === 0) {
        const text = Deno.readTextFileSync(log.path);
        assertEquals(runningInLog(text).map((r) => r.leaseId), ["long"]);
      }
    }
    const lines = Deno.readTextFileSync(log.path).trimEnd().split("\n").length;
    assert(lines <= 1025, `${lines} lines for one running step`);
    log.ended("long");
    for (let i = 0; i < 100; i++) {
      log.started(record(`t${i}`));
      log.ended(`t${i}`);
    }
    assert(Deno.readTextFileSync(log.path).split("\n").length <= 66, "emptied when idle");
    log.close();
    assertEquals([...Deno.readDirSync(`${dir}/steps`)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("step log: a live worker's log is left as it is; a dead one's with nothing running goes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-step-log-" });
  try {
    const steps = `${dir}/steps`;
    const me = { pid: Deno.pid, processStart: (await processStartTime(Deno.pid))! };
    const live = new StepLog(steps, me);
    live.started({ ...record("mine"), owner: me });
    const before = Deno.readTextFileSync(live.path);
    // A worker process that has exited, whose last step ended.
    const gone = new Deno.Command("true").spawn();
    const goneStart = (await processStartTime(gone.pid)) ?? "1";
    await gone.status;
    const dead = new StepLog(steps, { pid: gone.pid, processStart: goneStart });
    dead.started(record("theirs"));
    dead.ended("theirs");
    const reports = await new StepRecords(steps).reapLeftovers(new Map());
    assertEquals(reports.map((r) => [r.leaseId, r.outcome]), [["mine", "owner-alive"]]);
    assertEquals(Deno.readTextFileSync(live.path), before, "the live worker's log is untouched");
    assertEquals(names(steps), [live.path.slice(steps.length + 1)]);
    live.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name);
