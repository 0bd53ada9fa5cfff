// A worker killed with -9 leaves its steps running (each is its own
// session, or its own container). It recorded them in its cache dir, so the
// next worker process of that cache dir ends them before it connects and
// says so in a `reaped` line. Real processes: the hub on a TLS Connect
// server, real workers, a real Docker engine for the container case.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import { isSameProcessAlive, type StepEvent } from "../../runtime/mod.ts";
import { assert, assertEquals, eventually, groupAlive } from "../helpers/mod.ts";
import { testNeeding } from "../helpers/capabilities.ts";
import { containersLabelled, ensureTestImage } from "../helpers/docker.ts";
import { startTestHub } from "../helpers/hub.ts";
import { runningInLog } from "../../cli/worker/step_log.ts";

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);

Deno.test("a worker restarted after kill -9 reaps the step its previous process left running", async () => {
  await using t = await startTestHub({ heartbeatMs: 500, graceMs: 60_000, tickMs: 100 });
  const w1 = await t.connect("w1");
  const executor = createRemoteExecutor({ dispatcher: t.hub });
  const abort = new AbortController();
  const seen: StepEvent[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => ready = resolve);
  // A step with a child, so the whole group has to go, not only its leader.
  const following = (async () => {
    const events = executor.dispatch({
      runId: "run-orphans",
      stepId: "s1",
      command: { script: "sleep 300 & echo ready; wait" },
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      graceMs: 500,
      outputLimitBytes: 1 << 16,
    }, abort.signal);
    for await (const e of events) {
      seen.push(e);
      if (e.type === "output" && e.line === "ready") ready();
    }
  })();
  try {
    await Promise.race([
      isReady,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no "ready" in 30 s: ${show(seen)}`)), 30_000)
      ),
    ]);
    const started = seen.find((e) => e.type === "started");
    assert(started?.type === "started", show(seen));
    const { pid, pgid, processStart } = started.process;
    const placed = seen.find((e) => e.type === "placed");
    assert(placed?.type === "placed" && placed.epoch === 1, show(seen));
    assertEquals(runningRecords(`${t.cacheDir("w1")}/steps`), [placed.leaseId], "one record");

    w1.signal("SIGKILL");
    await w1.exited(10_000);
    assertEquals(await isSameProcessAlive(pid, processStart), true, "the step outlived its worker");
    assert((await groupAlive(pgid)).length >= 2, "the step and its child still run");

    const again = await t.connect("w1");
    const reaped = await again.waitFor("reaped", 30_000);
    assertEquals(
      [reaped.leaseId, reaped.runId, reaped.stepId, reaped.pid, reaped.pgid, reaped.processStart],
      [placed.leaseId, "run-orphans", "s1", pid, pgid, processStart],
    );
    assertEquals([reaped.outcome, reaped.confirmed], ["stopped", true], show(reaped));
    // Reaped before it connected.
    const order = again.events.map((e) => e.event);
    assert(order.indexOf("reaped") < order.indexOf("connected"), show(again.events));
    assertEquals(await isSameProcessAlive(pid, processStart), false, "the step's leader is gone");
    assertEquals(await groupAlive(pgid), [], "nothing is left in the step's group");
    // The hub may already have re-dispatched the step (attempt 2) to the restarted worker,
    // which records that one: only the reaped lease's record must be gone.
    const left = runningRecords(`${t.cacheDir("w1")}/steps`);
    assertEquals(left.includes(placed.leaseId), false, left.join(" "));
  } finally {
    abort.abort();
    await eventually("the dispatch ended", async () => {
      await Promise.race([following, new Promise((r) => setTimeout(r, 100))]);
      return seen.some((e) => e.type === "exited") ? true : undefined;
    }).catch(() => {});
    await following.catch(() => {});
  }
});

Deno.test("a step record whose pid now belongs to another process is left alone and dropped", async () => {
  await using t = await startTestHub({ heartbeatMs: 500, tickMs: 100 });
  // A process the record's pid now names, started after the "step" (another start time).
  const stranger = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    const dir = `${t.cacheDir("w2")}/steps`;
    await Deno.mkdir(dir, { recursive: true });
    const bootId = (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim();
    await Deno.writeTextFile(
      `${dir}/${encodeURIComponent("run-x/s#1")}.json`,
      JSON.stringify({
        version: 1,
        leaseId: "run-x/s#1",
        runId: "run-x",
        stepId: "s",
        bootId,
        owner: { pid: 999_999_999, processStart: "1" },
        process: { executor: "loopback", pid: stranger.pid, pgid: stranger.pid, processStart: "1" },
      }),
    );
    const w2 = await t.connect("w2");
    const reaped = await w2.waitFor("reaped");
    assertEquals([reaped.outcome, reaped.confirmed], ["reused", true], show(reaped));
    assertEquals(
      (await Deno.readTextFile(`/proc/${stranger.pid}/stat`)).includes(" Z "),
      false,
      "the process that reuses the pid still runs",
    );
    assertEquals([...Deno.readDirSync(dir)].length, 0);
  } finally {
    stranger.kill("SIGKILL");
    await stranger.status;
  }
});

await testNeeding(
  "docker",
  "a worker restarted after kill -9 removes the container its previous process left",
  async () => {
    const image = await ensureTestImage();
    await using t = await startTestHub({ heartbeatMs: 500, graceMs: 60_000, tickMs: 100 });
    const w1 = await t.connect("wd", ["--executor", "docker"]);
    const executor = createRemoteExecutor({ dispatcher: t.hub });
    const abort = new AbortController();
    const seen: StepEvent[] = [];
    const runId = `run-orphan-box-${crypto.randomUUID().slice(0, 8)}`;
    const following = (async () => {
      const events = executor.dispatch({
        runId,
        stepId: "s1",
        command: { script: "echo ready; sleep 300" },
        env: {},
        graceMs: 500,
        outputLimitBytes: 1 << 16,
        container: { image },
        placement: { executor: "docker" },
      }, abort.signal);
      for await (const e of events) seen.push(e);
    })();
    try {
      await eventually(
        "the step's first line",
        () => Promise.resolve(seen.some((e) => e.type === "output") || undefined),
      );
      const started = seen.find((e) => e.type === "started");
      assert(started?.type === "started", show(seen));
      const containerId = started.process.containerId ?? "";
      const left = () =>
        containersLabelled({ "dev.swamp.run-id": runId }).then((ids) =>
          ids.filter((id) => id === containerId)
        );

      w1.signal("SIGKILL");
      await w1.exited(10_000);
      assertEquals((await left()).length, 1, "the container outlived its worker");

      // Restarted offering loopback only: it still reaps with the executor that started the step
      // (and the step, sent again, waits for a worker that offers docker).
      const again = await t.connect("wd");
      const reaped = await again.waitFor("reaped", 30_000);
      assertEquals([reaped.runId, reaped.stepId], [runId, "s1"]);
      assertEquals([reaped.outcome, reaped.confirmed], ["stopped", true], show(reaped));
      const order = again.events.map((e) => e.event);
      assert(order.indexOf("reaped") < order.indexOf("connected"), show(again.events));
      assertEquals(await left(), [], "the container is gone");
      assertEquals([...Deno.readDirSync(`${t.cacheDir("wd")}/steps`)], []);
    } finally {
      abort.abort();
      await following.catch(() => {});
    }
  },
);

/** The leases of the steps the worker logs in `dir` record as running. */
function runningRecords(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".jsonl")).flatMap((e) =>
    runningInLog(Deno.readTextFileSync(`${dir}/${e.name}`)).map((r) => r.leaseId)
  );
}
