// Several `swamp serve` instances on one PostgreSQL store (decision 0027),
// with real processes: three instances, a run submitted to one of them, that
// instance killed with SIGKILL while a step runs. Either survivor may claim
// the run (whether both try in the same second is timing; owner_race_test.ts
// forces that race): exactly one ownerChanged takes it over, the local step
// the dead instance ran is abandoned (its
// process ended, never re-run), the steps it had not started run on the new
// owner, each step's command completes at most once, and the run ends.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually, markedChain } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import type { ServeProcess } from "../helpers/serve.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";

const steps = 8;

await testNeeding(
  "postgres",
  "serve HA: an owner killed mid-run, its run taken over by exactly one survivor",
  async () => {
    await using ha = await haRepo("swamp-pg-ha-", (work) => ({
      "workflows/workflow-chain.yaml": markedChain(steps, `${work}/marks`, 1.5),
    }));
    const marks = `${ha.work}/marks`;
    const servers: ServeProcess[] = [];
    for (let i = 0; i < 3; i++) servers.push(await ha.serve());
    const [owner, ...survivors] = servers;

    const started = await owner.cli(["workflow", "run", "chain", "--detach", "--json"], ha.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    // Killed while a step runs, once at least one step completed.
    await eventually("the second step to start", async () => {
      const text = await Deno.readTextFile(marks).catch(() => "");
      return text.includes("s1") ? true : undefined;
    });
    await owner.kill();

    const store = await ha.store();
    const ended = await eventually("the run to end on a survivor", async () => {
      const run = await loadFoldedRun(store, runId);
      return run && ["SUCCEEDED", "FAILED"].some((s) => run.status === statusOf(s))
        ? run
        : undefined;
    }, 90_000);
    const events = await store.readEvents(runId, 0n);
    const owners = events.filter((e) => e.payload.case === "ownerChanged");
    assertEquals(owners.length, 2, "one claim by the first owner, one takeover");
    const taken = owners[1];
    assertEquals(
      taken.reason,
      `taken over from instance ${owner.instance} (heartbeat lapsed)`,
    );
    const newOwner = taken.payload.case === "ownerChanged" ? taken.payload.value.owner?.server : "";
    assert(survivors.some((s) => s.instance === newOwner), `owned by ${newOwner}`);
    assertEquals(ended.owner?.server, newOwner);
    assert(ended.owner!.epoch > owners[0].ownerEpoch, "the epoch rose");
    // Both survivors saw the lapse; the loser's claim was refused, so exactly one takeover.
    const seqs = events.map((e) => e.seq);
    assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "no event lost or duplicated");
    // How many survivors went for the run (each says `takeover` when it hands it to its run
    // thread); reported, since whether both polled in the same window is timing.
    const racers = survivors.filter((s) => s.events.some((e) => e.event === "takeover"));
    console.log(`claim race: ${racers.length} of 2 survivors tried; 1 ownerChanged written`);
    const lines = (await Deno.readTextFile(marks)).trim().split("\n");
    assertEquals(lines.length, new Set(lines).size, `a step completed twice: ${lines}`);
    const abandoned = ended.steps.filter((s) => s.status === statusOfStep("ABANDONED"));
    assert(abandoned.length <= 1, "only the step the dead owner ran is abandoned");
    const succeeded = ended.steps.filter((s) => s.status === statusOfStep("SUCCEEDED"));
    assertEquals(
      succeeded.length + abandoned.length,
      steps,
      ended.steps.map((s) => `${s.name}:${StepStatus[s.status]}:${s.reason}`).join("\n"),
    );
  },
);

import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
function statusOf(name: string): RunStatus {
  return RunStatus[name as keyof typeof RunStatus];
}
function statusOfStep(name: string): StepStatus {
  return StepStatus[name as keyof typeof StepStatus];
}
