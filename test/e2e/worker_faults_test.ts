// Faults of remote workers with real processes: kill -9 of a worker, a
// worker stopped (SIGSTOP) past and within the grace window, and a step no
// worker can take. The remote executor over an in-process hub on the real
// Connect server over TLS; short heartbeat and grace windows.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import type { StepEvent, StepWork } from "../../runtime/mod.ts";
import { assert, assertEquals, assertMatch, eventually, groupAlive } from "../helpers/mod.ts";
import { startTestHub } from "../helpers/hub.ts";

const fast = { heartbeatMs: 500, graceMs: 1500, tickMs: 100 };

const work = (stepId: string, script: string, extra: Partial<StepWork> = {}): StepWork => ({
  runId: "run-faults",
  stepId,
  command: { script },
  env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  graceMs: 500,
  outputLimitBytes: 1 << 16,
  ...extra,
});

/** Collects a dispatch's events; `on` sees each as it comes. A step not done in 60 s fails. */
async function collect(
  events: AsyncIterable<StepEvent>,
  on: (e: StepEvent) => Promise<void> | void = () => {},
): Promise<StepEvent[]> {
  const out: StepEvent[] = [];
  const done = (async () => {
    for await (const e of events) {
      out.push(e);
      await on(e);
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the step did not end within 60 s; events: ${show(out)}`)),
      60_000,
    );
  });
  try {
    await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

const show = (events: unknown) =>
  JSON.stringify(events, (_k, v) => typeof v === "bigint" ? String(v) : v);

const exitedOf = (events: StepEvent[]) => {
  const last = events.at(-1)!;
  assert(last.type === "exited", `the last event is exited: ${show(events)}`);
  return last;
};

/** The process group of the step's first start (on the first worker). */
const firstGroup = (events: StepEvent[]) => {
  const started = events.find((e) => e.type === "started");
  return started?.type === "started" ? started.process.pgid : undefined;
};

const groupGone = (pgid: number) =>
  eventually(
    `process group ${pgid} gone`,
    async () => (await groupAlive(pgid)).length === 0 ? true : undefined,
  );

Deno.test("kill -9 of a worker in a step that wrote nothing: attempt 2 on the other worker runs it once", async () => {
  await using t = await startTestHub(fast);
  const w1 = await t.connect("w1");
  const dir = await Deno.makeTempDir({ prefix: "swamp-faults-" });
  try {
    const marks = `${dir}/marks`;
    // The step waits for a file the test writes after the kill, so its first run never completes.
    const script = `echo ready; while [ ! -e ${dir}/go ]; do sleep 0.05; done; ` +
      `echo "$SWAMP_WORKER_ID" >> ${marks}; echo done`;
    const executor = createRemoteExecutor({ dispatcher: t.hub });
    const seen: StepEvent[] = [];
    let killed = false;
    const events = await collect(
      executor.dispatch(work("s1", script), new AbortController().signal),
      async (e) => {
        seen.push(e);
        if (e.type === "output" && e.line === "ready" && !killed) {
          killed = true;
          await t.connect("w2");
          // The first machine dies: its worker and the step it ran (a worker killed alone
          // leaves its step's process group running: see the report / docs).
          w1.signal("SIGKILL");
          Deno.kill(-firstGroup(seen)!, "SIGKILL");
          await groupGone(firstGroup(seen)!);
          await Deno.writeTextFile(`${dir}/go`, "");
        }
      },
    );
    const placed = events.flatMap((e) =>
      e.type === "placed" ? [[e.worker, e.attempt, e.epoch]] : []
    );
    assertEquals(placed, [["w1", 1, 1], ["w2", 2, 2]]);
    const re = events.find((e) => e.type === "redispatched");
    assert(re?.type === "redispatched" && re.attempt === 2, show(events));
    assertMatch(re.reason, /worker w-\w+ was lost/);
    const exited = exitedOf(events);
    assertEquals([exited.exitCode, exited.error], [0, undefined], show(exited));
    const lines = (await Deno.readTextFile(marks)).trim().split("\n");
    assertEquals(lines.length, 1, "the step ran to completion once");
    // Released just after the exit is handed on.
    const second = events.find((e) => e.type === "placed" && e.attempt === 2);
    assert(second?.type === "placed", show(events));
    const lease = await eventually("the lease of attempt 2 released", async () => {
      const found = await t.store.getLease(second.leaseId);
      return found?.state === "released" ? found : undefined;
    });
    assertEquals(lease.attempt, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kill -9 of a worker after its step wrote: worker_lost, the write-then-fail rule", async () => {
  await using t = await startTestHub(fast);
  const w1 = await t.connect("w1");
  await t.connect("w2"); // a worker free for a re-dispatch, which must not happen
  const executor = createRemoteExecutor({ dispatcher: t.hub });
  const seen: StepEvent[] = [];
  const events = await collect(
    executor.dispatch(
      work("s2", "echo ready; sleep 300", { placement: { target: "w1" } }),
      new AbortController().signal,
    ),
    async (e) => {
      seen.push(e);
      if (e.type === "placed") {
        // What the capability service will do when the step writes data: mark its lease.
        assertEquals(await t.store.markLeaseWritten(e.leaseId), true);
      }
      if (e.type === "output" && e.line === "ready") {
        w1.signal("SIGKILL");
        Deno.kill(-firstGroup(seen)!, "SIGKILL");
      }
    },
  );
  assert(!events.some((e) => e.type === "redispatched"), show(events));
  const exited = exitedOf(events);
  assertEquals([exited.errorCode, exited.cancelled], ["worker_lost", false]);
  assertMatch(exited.error ?? "", /after the step had written.*write-then-fail rule/);
});

Deno.test("a worker stopped past the grace window is fenced: its stale lease is killed", async () => {
  await using t = await startTestHub(fast);
  const w1 = await t.connect("w1");
  const w1Id = (await w1.waitFor("connected")).workerId;
  const executor = createRemoteExecutor({ dispatcher: t.hub });
  const seen: StepEvent[] = [];
  let stopped = false;
  // On w1 the step would run for minutes: only the kill can end it there.
  const script = `echo ready; [ "$SWAMP_WORKER_ID" = "${w1Id}" ] && sleep 300; echo done`;
  const events = await collect(
    executor.dispatch(
      work("s3", script),
      new AbortController().signal,
    ),
    async (e) => {
      seen.push(e);
      if (e.type === "output" && e.line === "ready" && !stopped) {
        stopped = true;
        w1.signal("SIGSTOP"); // partitioned: silent, its step still running
        await t.connect("w2");
      }
      if (e.type === "placed" && e.attempt === 2) w1.signal("SIGCONT");
    },
  );
  const exited = exitedOf(events);
  assertEquals(exited.exitCode, 0, show(events));
  const placed = events.flatMap((e) => e.type === "placed" ? [[e.worker, e.epoch]] : []);
  assertEquals(placed, [["w1", 1], ["w2", 2]]);
  const first = events.find((e) => e.type === "placed" && e.epoch === 1);
  assert(first?.type === "placed", show(events));
  // Back, the stale worker is told to kill the lease of epoch 1, and its step is gone.
  const kill = await w1.waitFor("killed", 30_000);
  assertEquals(kill.leaseId, first.leaseId);
  await eventually("the stale epoch named in a kill", () =>
    Promise.resolve(
      w1.events.some((e) => e.event === "killed" && /stale epoch 1/.test(String(e.reason)))
        ? true
        : undefined,
    ));
  await groupGone(firstGroup(seen)!);
});

Deno.test("a worker back within the grace window resumes: no line lost or doubled", async () => {
  await using t = await startTestHub({ ...fast, graceMs: 20_000 });
  const w1 = await t.connect("w1");
  const executor = createRemoteExecutor({ dispatcher: t.hub });
  let stopped = false;
  const script = "i=1; while [ $i -le 40 ]; do echo line-$i; i=$((i+1)); sleep 0.05; done";
  const events = await collect(
    executor.dispatch(work("s4", script), new AbortController().signal),
    async (e) => {
      if (e.type === "output" && e.line === "line-5" && !stopped) {
        stopped = true;
        w1.signal("SIGSTOP");
        // Longer than the hub's silence limit (3 heartbeats): the stream is dropped.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        w1.signal("SIGCONT");
      }
    },
  );
  const lines = events.flatMap((e) => e.type === "output" ? [e.line] : []);
  assertEquals(lines, Array.from({ length: 40 }, (_, i) => `line-${i + 1}`));
  assertEquals(exitedOf(events).exitCode, 0);
  assert(!events.some((e) => e.type === "redispatched"), show(events));
  const resumed = await w1.waitFor("connected", 10_000, 1);
  assertEquals(resumed.resumed, true);
});

Deno.test("a step no worker fits ends with queue_timeout and the reason it waited", async () => {
  await using t = await startTestHub(fast);
  await t.connect("w1");
  const executor = createRemoteExecutor({ dispatcher: t.hub });
  const events = await collect(
    executor.dispatch(
      work("s5", "true", { placement: { labels: { gpu: "true" }, queueTimeoutMs: 300 } }),
      new AbortController().signal,
    ),
  );
  assertEquals(events[0], {
    type: "queued",
    reason: 'no connected worker has labels {gpu: "true"}; 1 worker connected',
  });
  const exited = exitedOf(events);
  assertEquals([exited.errorCode, exited.cancelled], ["queue_timeout", false]);
  assertMatch(exited.error ?? "", /queue timeout of 300 ms: no connected worker has labels/);
});
