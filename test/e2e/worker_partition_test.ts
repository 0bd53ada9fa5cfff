// A real network partition, not a stopped process: the worker runs in its
// own network namespace, joined to the host by a veth pair; the hub's
// Connect server listens on the host's end (TLS, a certificate naming that
// address). The link is cut for less, then for more, than the grace window.
// Needs root and iproute2 (capability "netns"). No timing assertions: every
// wait is bounded and fails saying what it waited for.
import { WorkerState } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import { isSameProcessAlive, type StepEvent, type StepWork } from "../../runtime/mod.ts";
import { assert, assertEquals, assertMatch, eventually, groupAlive } from "../helpers/mod.ts";
import { testNeeding } from "../helpers/capabilities.ts";
import { startTestHub } from "../helpers/hub.ts";
import { makePartition } from "../helpers/netns.ts";

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);

const work = (stepId: string, script: string): StepWork => ({
  runId: "run-partition",
  stepId,
  command: { script },
  env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  graceMs: 500,
  outputLimitBytes: 1 << 16,
});

/** Follows a dispatch to its end (`on` sees each event); fails after `ms`. */
async function follow(
  events: AsyncIterable<StepEvent>,
  on: (e: StepEvent) => Promise<void> | void,
  ms = 90_000,
): Promise<StepEvent[]> {
  const out: StepEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      (async () => {
        for await (const e of events) {
          out.push(e);
          await on(e);
        }
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the step did not end within ${ms} ms; events: ${show(out)}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await testNeeding(
  "netns",
  "a link cut shorter than the grace window: the lease survives, no line lost or doubled",
  async () => {
    await using net = await makePartition();
    // Silence is noticed after 3 heartbeats (1.5 s); the cut lasts 4 s; grace is 30 s.
    await using t = await startTestHub(
      { heartbeatMs: 500, graceMs: 30_000, tickMs: 100 },
      net.hostIp,
    );
    const w1 = await t.connect("w1", [], net.exec);
    const executor = createRemoteExecutor({ dispatcher: t.hub });
    let cut = false;
    const script = "i=1; while [ $i -le 120 ]; do echo line-$i; i=$((i+1)); sleep 0.05; done";
    const events = await follow(
      executor.dispatch(work("short", script), new AbortController().signal),
      async (e) => {
        if (e.type === "output" && e.line === "line-5" && !cut) {
          cut = true;
          await net.cut();
          try {
            // Until the hub notices: the worker's session is then disconnected, its lease held.
            await eventually("the hub to see w1 disconnected", () =>
              Promise.resolve(
                t.hub.list().find((w) => w.name === "w1")?.state === WorkerState.DISCONNECTED
                  ? true
                  : undefined,
              ));
            const [lease] = await t.store.listLeases({ runId: "run-partition" });
            assertEquals(
              [lease?.epoch, lease?.state],
              [1n, "active"],
              "the lease survives the cut",
            );
            await sleep(1000);
          } finally {
            await net.heal();
          }
        }
      },
    );
    assert(cut, show(events));
    const lines = events.flatMap((e) => e.type === "output" ? [e.line] : []);
    assertEquals(lines, Array.from({ length: 120 }, (_, i) => `line-${i + 1}`));
    const exited = events.at(-1);
    assert(exited?.type === "exited" && exited.exitCode === 0, show(events));
    assertEquals(events.filter((e) => e.type === "placed").length, 1, show(events));
    assert(!events.some((e) => e.type === "redispatched"), show(events));
    const leases = await t.store.listLeases({ runId: "run-partition" });
    assertEquals(leases.map((l) => l.epoch), [1n], "never leased again");
    const back = await w1.waitFor("connected", 30_000, 1);
    assertEquals(back.resumed, true, show(w1.events));
    await w1.waitFor("finished", 10_000);
    const finished = w1.events.filter((e) => e.event === "finished");
    assertEquals(finished.length, 1, "the step finished once");
  },
);

await testNeeding(
  "netns",
  "a link cut longer than the grace window: re-dispatched as attempt 2, the stale lease killed",
  async () => {
    await using net = await makePartition();
    await using t = await startTestHub(
      { heartbeatMs: 500, graceMs: 2000, tickMs: 100 },
      net.hostIp,
    );
    const dir = await Deno.makeTempDir({ prefix: "swamp-partition-" });
    try {
      const w1 = await t.connect("w1", [], net.exec);
      const w1Id = String((await w1.waitFor("connected")).workerId);
      const marks = `${dir}/marks`;
      // On w1 the step would run for minutes: only a kill ends it there. It writes nothing.
      const script = `echo ready; [ "$SWAMP_WORKER_ID" = "${w1Id}" ] && sleep 300; ` +
        `echo "$SWAMP_WORKER_ID" >> ${marks}; echo done`;
      const executor = createRemoteExecutor({ dispatcher: t.hub });
      let first: { pid: number; pgid: number; processStart: string } | undefined;
      let firstLease = "";
      let healed = false;
      const events = await follow(
        executor.dispatch(work("long", script), new AbortController().signal),
        async (e) => {
          if (e.type === "started" && !first) first = e.process;
          if (e.type === "placed" && e.attempt === 1) firstLease = e.leaseId;
          if (e.type === "output" && e.line === "ready" && !healed && first) {
            if (!t.hub.list().some((w) => w.name === "w2")) {
              await net.cut();
              await t.connect("w2"); // on the host, over loopback to the host's address
            }
          }
          if (e.type === "placed" && e.attempt === 2 && !healed) {
            // Still cut off, w1 has stopped the step itself: it had not heard from the hub for
            // the grace window less one heartbeat.
            const fenced = await w1.waitFor("fenced", 20_000);
            assertEquals(fenced.leaseId, firstLease);
            assertEquals((await groupAlive(first!.pgid)).length, 0, "fenced before the heal");
            healed = true;
            await net.heal();
          }
        },
      );
      assert(first, show(events));
      const placed = events.flatMap((e) =>
        e.type === "placed" ? [[e.worker, e.attempt, e.epoch]] : []
      );
      assertEquals(placed, [["w1", 1, 1], ["w2", 2, 2]]);
      const re = events.find((e) => e.type === "redispatched");
      assert(re?.type === "redispatched" && re.attempt === 2, show(events));
      assertMatch(re.reason, /worker w-\w+ was lost/);
      const exited = events.at(-1);
      assert(exited?.type === "exited" && exited.exitCode === 0 && !exited.error, show(events));
      assertEquals(
        (await Deno.readTextFile(marks)).trim().split("\n").length,
        1,
        "ran to the end once",
      );

      // Back on the network, w1 is told its lease is stale and kills the step.
      await w1.waitFor("killed", 60_000);
      await eventually("a kill naming the stale epoch", () =>
        Promise.resolve(
          w1.events.some((e) =>
              e.event === "killed" && e.leaseId === firstLease &&
              /stale epoch 1/.test(String(e.reason))
            )
            ? true
            : undefined,
        ));
      await eventually(
        "the first attempt's processes gone",
        async () =>
          (await isSameProcessAlive(first!.pid, first!.processStart)) === false &&
            (await groupAlive(first!.pgid)).length === 0
            ? true
            : undefined,
      );
      // Released just after the exit is handed on.
      const second = events.find((e) => e.type === "placed" && e.attempt === 2);
      assert(second?.type === "placed", show(events));
      const lease = await eventually("the lease of attempt 2 released", async () => {
        const found = await t.store.getLease(second.leaseId);
        return found?.state === "released" ? found : undefined;
      });
      assertEquals(lease.attempt, 2);
    } finally {
      await net.heal().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
);
