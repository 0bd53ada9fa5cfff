// The failover of issue 16 (decisions 0027, 0031), with real processes on a
// real PostgreSQL: three `swamp serve` instances on one store, two workers
// given all three URLs (so connected to all three), a run of 200 short steps
// (a forEach placed on the workers, four at a time each) submitted to the
// first instance, which is killed with SIGKILL in the middle. A survivor
// takes the run over and asks the workers, already connected to it, to move
// the leases they still hold there: the run completes, every step's command
// completed exactly once, its events are numbered without a gap or a repeat,
// and its log shows the ownership change.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import type { ServeProcess } from "../helpers/serve.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

const items = 200;

function fanOut(marks: string): string {
  const list = Array.from({ length: items }, (_, i) => `i${i}`).join(", ");
  return [
    `id: ${crypto.randomUUID()}`,
    "name: wide",
    "jobs:",
    "  - name: main",
    "    steps:",
    "      - name: item-${{ self.n }}",
    `        forEach: {item: n, in: [${list}]}`,
    '        labels: {pool: "ha"}',
    "        task:",
    "          type: model_method",
    "          modelType: command/shell",
    "          modelName: item",
    "          methodName: execute",
    "          inputs:",
    `            run: ${JSON.stringify(`sleep 0.3; echo \${{ self.n }} >> ${marks}`)}`,
    "",
  ].join("\n");
}

await testNeeding(
  "postgres",
  "serve HA failover: 200 steps on 2 workers, the owner killed -9, the run completes once",
  async () => {
    await using ha = await haRepo("swamp-pg-failover-", (work) => ({
      "workflows/workflow-wide.yaml": fanOut(`${work}/marks`),
    }));
    const marks = `${ha.work}/marks`;
    const servers: ServeProcess[] = [];
    for (let i = 0; i < 3; i++) servers.push(await ha.serve(["--worker-grace", "20s"]));
    const urls = servers.map((s) => s.url).join(",");
    const workers = [];
    for (const name of ["wa", "wb"]) {
      workers.push(await ha.worker(urls, name, ["pool=ha"], ["--concurrency", "4"]));
    }
    const [owner] = servers;
    const started = await owner.cli(["workflow", "run", "wide", "--detach", "--json"], ha.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    await eventually("a quarter of the steps to complete", async () => {
      const text = await Deno.readTextFile(marks).catch(() => "");
      return text.split("\n").length > items / 4 ? true : undefined;
    }, 120_000);
    await owner.kill();
    const killedAt = Date.now();

    const store = await ha.store();
    const ended = await eventually("the run to end on a survivor", async () => {
      const run = await loadFoldedRun(store, runId);
      return run && run.status !== RunStatus.RUNNING ? run : undefined;
    }, 150_000);
    const events = await store.readEvents(runId, 0n);
    const takeover = events.find((e) =>
      e.payload.case === "ownerChanged" && e.reason.startsWith("taken over from instance")
    );
    assert(takeover, "the event log shows the ownership change");
    assertEquals(
      takeover.reason,
      `taken over from instance ${owner.instance} (heartbeat lapsed)`,
    );
    const seqs = events.map((e) => e.seq);
    assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "no event lost or duplicated");
    const notes = ended.steps.filter((s) => s.status !== StepStatus.SUCCEEDED)
      .map((s) => `${s.name}: ${StepStatus[s.status]} ${s.reason}`);
    assertEquals(RunStatus[ended.status], "SUCCEEDED", notes.join("\n"));
    const lines = (await Deno.readTextFile(marks)).trim().split("\n");
    const twice = lines.filter((line, i) => lines.indexOf(line) !== i);
    assertEquals(twice, [], "a step's command completed twice");
    assertEquals(new Set(lines).size, items, "every step's command completed");
    const adopted = events.filter((e) => e.reason.includes(": adopting lease ")).length;
    assert(adopted > 0, "steps running on the workers at the kill were adopted");
    // The new owner asked the workers for each lease it adopts. A lease the dead owner took
    // but whose assignment never reached its worker is answered "not held" (then dispatched
    // again at once, never run twice: checked above); the running steps' were moved.
    const moved = workers.flatMap((w) => w.events).filter((e) => e.event === "adopted");
    const movedIds = new Set(moved.map((e) => String(e.leaseId)));
    for (const event of events) {
      const leaseId = / adopting lease (\S+)$/.exec(event.reason)?.[1];
      if (leaseId) assert(movedIds.has(leaseId), `lease ${leaseId} was asked of its worker`);
    }
    assert(moved.some((e) => e.held === true), "running steps' leases were moved");
    const takenAt = Number(takeover.time!.seconds) * 1000 + takeover.time!.nanos / 1e6;
    // Reported, not asserted (timing belongs in bench/): the takeover bound of decision 0027.
    console.log(
      `failover: taken over ${Math.round(takenAt - killedAt)} ms after the kill, ` +
        `${adopted} running steps adopted; the run ended ${Date.now() - killedAt} ms after it`,
    );
  },
);
