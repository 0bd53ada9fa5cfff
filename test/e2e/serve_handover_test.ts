// A drain that hands runs over (decision 0030), with real processes on a real
// PostgreSQL: two `swamp serve` instances on one store, a worker given both
// URLs (so it sits on the first), a run submitted to the first with a local
// step and a step on the worker running side by side, and a third step after
// both. SIGTERM to the first instance: it starts nothing new, lets its local
// step finish and record its end, then leaves the run to the second, which
// claims it at once (no heartbeat lapse), adopts the worker's step when the
// worker comes over, and runs the last step. Every step's command completes
// exactly once, no event is lost or doubled, the event log says who handed
// the run over, and the drained instance exits 0 saying where its run went.
// A second run, whose step waits for a worker nobody has, is handed over at
// once and waits on the survivor instead. A run whose local step outlasts
// --drain-timeout is cancelled by its owner, as on one server, and nobody
// takes it over.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually, fileAppears, shellStep, workflowFile } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

const waiting = workflowFile(
  "waiting",
  shellStep("nowhere", "echo never", '        labels: {pool: "nobody"}\n'),
);

function handover(marks: string): string {
  return workflowFile(
    "handover",
    shellStep("here", `echo started-here >> ${marks}; sleep 3; echo here >> ${marks}`) +
      shellStep(
        "there",
        `echo started-there >> ${marks}; sleep 6; echo there >> ${marks}`,
        '        labels: {pool: "handover"}\n',
      ) +
      shellStep(
        "last",
        `echo last >> ${marks}`,
        "        dependsOn:\n" +
          "          - {step: here, condition: {type: succeeded}}\n" +
          "          - {step: there, condition: {type: succeeded}}\n",
      ),
  );
}

await testNeeding(
  "postgres",
  "serve HA: SIGTERM hands a run over: local step finished, worker step adopted, run completes once",
  async () => {
    await using ha = await haRepo("swamp-pg-handover-", (work) => ({
      "workflows/workflow-handover.yaml": handover(`${work}/marks`),
      "workflows/workflow-waiting.yaml": waiting,
    }));
    const marks = `${ha.work}/marks`;
    const drained = await ha.serve();
    const survivor = await ha.serve();
    await ha.worker(`${drained.url},${survivor.url}`, "wa", ["pool=handover"]);

    const started = await drained.cli(
      ["workflow", "run", "handover", "--detach", "--json"],
      ha.token,
    );
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    const queued = await drained.cli(
      ["workflow", "run", "waiting", "--detach", "--json"],
      ha.token,
    );
    assertEquals(queued.code, 0, `${queued.stdout}\n${queued.stderr}`);
    const waitingId = (queued.json as { run: { id: string } }).run.id;
    await eventually("both steps to start", async () => {
      const text = await Deno.readTextFile(marks).catch(() => "");
      return text.includes("started-here") && text.includes("started-there") ? true : undefined;
    });
    const stoppedAt = Date.now();
    assertEquals(await drained.stop(), 0, "the drained instance exits 0");
    const stoppedIn = Date.now() - stoppedAt;

    const store = await ha.store();
    const ended = await eventually("the run to end on the survivor", async () => {
      const run = await loadFoldedRun(store, runId);
      return run && run.status !== RunStatus.RUNNING ? run : undefined;
    }, 60_000);
    const notes = ended.steps.map((s) => `${s.name}: ${StepStatus[s.status]} ${s.reason}`);
    assertEquals(RunStatus[ended.status], "SUCCEEDED", notes.join("\n"));
    assertEquals(ended.owner?.server, survivor.instance);

    const stopped = drained.events.find((e) => e.event === "stopped");
    assertEquals(stopped?.cancelled, []);
    const handed = stopped?.handedOver as { runId: string }[];
    assertEquals(
      handed.sort((a, b) => a.runId.localeCompare(b.runId)),
      [{ runId, to: survivor.instance }, { runId: waitingId, to: survivor.instance }]
        .sort((a, b) => a.runId.localeCompare(b.runId)),
    );
    const moved = await eventually("the waiting run's step to wait on the survivor", async () => {
      const run = await loadFoldedRun(store, waitingId);
      return run?.steps[0].status === StepStatus.QUEUED ? run : undefined;
    });
    assertEquals([RunStatus[moved.status], moved.owner?.server], ["RUNNING", survivor.instance]);
    const cancel = await survivor.cli(["workflow", "cancel", waitingId], ha.token);
    assertEquals(cancel.code, 0, cancel.stderr);

    const events = await store.readEvents(runId, 0n);
    const seqs = events.map((e) => e.seq);
    assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "no event lost or duplicated");
    const owners = events.filter((e) => e.payload.case === "ownerChanged");
    assertEquals(owners.map((e) => e.reason), [
      "supervisor started",
      `handed over by instance ${drained.instance} (it drained)`,
    ]);
    // The local step ended on the drained instance, before the hand-over.
    const handedAt = events.indexOf(owners[1]);
    const here = ended.steps.find((s) => s.name === "here")!.id;
    const hereEnd = events.findIndex((e) =>
      e.payload.case === "stepStatusChanged" && e.payload.value.stepId === here &&
      e.payload.value.to === StepStatus.SUCCEEDED
    );
    assert(hereEnd >= 0 && hereEnd < handedAt, "the local step's end was recorded first");
    assert(
      events.some((e) => e.reason.includes(": adopting lease ")),
      "the worker's step was adopted, not run again",
    );
    const lines = (await Deno.readTextFile(marks)).trim().split("\n").sort();
    assertEquals(lines, ["here", "last", "started-here", "started-there", "there"]);
    // Reported, not asserted (timing belongs in bench/).
    console.log(`handover: the drained instance exited ${stoppedIn} ms after SIGTERM`);
  },
);

await testNeeding(
  "postgres",
  "serve HA: a run whose local step outlasts --drain-timeout is cancelled, not handed over",
  async () => {
    await using ha = await haRepo("swamp-pg-handover-late-", (work) => ({
      "workflows/workflow-slow.yaml": workflowFile(
        "slow",
        shellStep("long", `touch ${work}/started; sleep 60`),
      ),
    }));
    const drained = await ha.serve(["--drain-timeout", "1s"]);
    const survivor = await ha.serve();
    const run = await drained.cli(["workflow", "run", "slow", "--detach", "--json"], ha.token);
    assertEquals(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const runId = (run.json as { run: { id: string } }).run.id;
    await fileAppears(`${ha.work}/started`);
    assertEquals(await drained.stop(), 0);
    const stopped = drained.events.find((e) => e.event === "stopped");
    assertEquals([stopped?.cancelled, stopped?.handedOver], [[runId], []]);
    const ended = await loadFoldedRun(await ha.store(), runId);
    assertEquals(RunStatus[ended!.status], "CANCELLED");
    // Cancelled by the instance that owned it; the survivor never claimed it.
    assertEquals(ended!.owner?.server, drained.instance);
    assertEquals(survivor.events.filter((e) => e.event === "takeover"), []);
  },
);
