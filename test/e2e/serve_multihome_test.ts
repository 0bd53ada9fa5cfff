// A worker connected to every instance of one store (decision 0031), with
// real processes on a real PostgreSQL: two `swamp serve` instances, one
// worker given both URLs with --concurrency 1, and runs submitted to each
// instance whose step is placed on that worker's label. Every run's step runs
// on the worker, whichever instance owns the run, and never two at once: each
// step takes a lock directory the other would find taken (mkdir fails), so a
// step run beside another fails its run. A drain through one instance drains
// the worker on the other too. And when one of the instances dies
// (SIGKILL), the step the worker runs for the other goes on untouched.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eventually, shellStep, workflowFile } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

const runsPerInstance = 3;

await testNeeding(
  "postgres",
  "serve HA: a worker given every instance's URL runs the steps of both instances' runs, one at a time",
  async () => {
    await using ha = await haRepo("swamp-pg-multihome-", (work) => ({
      "workflows/workflow-shared.yaml": workflowFile(
        "shared",
        shellStep(
          "alone",
          `mkdir ${work}/lock || exit 9; echo run >> ${work}/marks; sleep 0.4; rmdir ${work}/lock`,
          '        labels: {pool: "shared"}\n',
        ),
      ),
    }));
    const first = await ha.serve();
    const second = await ha.serve();
    const worker = await ha.worker(`${first.url},${second.url}`, "wm", ["pool=shared"], [
      "--concurrency",
      "1",
    ]);
    const servers = new Set(
      worker.events.filter((e) => e.event === "connected").map((e) => e.server),
    );
    assertEquals(servers.size, 2, "the worker is connected to both instances");
    for (const server of [first, second]) {
      const listed = await server.cli(["worker", "list", "--json"], ha.token);
      assertEquals(listed.code, 0, listed.stderr);
      const workers = (listed.json as { workers: { name: string; state: string }[] }).workers;
      assertEquals(workers.map((w) => `${w.name} ${w.state}`), ["wm connected"]);
    }

    const runIds: { runId: string; instance: string }[] = [];
    for (let i = 0; i < runsPerInstance; i++) {
      for (const server of [first, second]) {
        const started = await server.cli(
          ["workflow", "run", "shared", "--detach", "--json"],
          ha.token,
        );
        assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
        runIds.push({
          runId: (started.json as { run: { id: string } }).run.id,
          instance: server.instance,
        });
      }
    }
    const store = await ha.store();
    for (const { runId, instance } of runIds) {
      const run = await eventually(`run ${runId} to end`, async () => {
        const folded = await loadFoldedRun(store, runId);
        return folded && folded.status !== RunStatus.RUNNING ? folded : undefined;
      }, 60_000);
      const step = run.steps[0];
      assertEquals(
        RunStatus[run.status],
        "SUCCEEDED",
        `run of ${instance}: ${step?.reason} (exit ${step?.exitCode})`,
      );
      assertEquals(run.owner?.server, instance, "the instance it was submitted to owns it");
      assertEquals(step.placement?.workerName, "wm");
    }
    const marks = (await Deno.readTextFile(`${ha.work}/marks`)).trim().split("\n");
    assertEquals(marks.length, 2 * runsPerInstance, "every step ran once");
    const assigned = worker.events.filter((e) => e.event === "assigned").length;
    assert(assigned >= 2 * runsPerInstance, `the worker was assigned every step (${assigned})`);

    // Drained through one instance, it is drained on the other too (it says so in its heartbeat).
    const drained = await first.cli(["worker", "drain", "wm", "--json"], ha.token);
    assertEquals(drained.code, 0, drained.stderr);
    await eventually("the other instance to list it draining", async () => {
      const listed = await second.cli(["worker", "list", "--json"], ha.token);
      const workers = (listed.json as { workers: { name: string; state: string }[] }).workers;
      return workers[0]?.state === "draining" ? true : undefined;
    });
  },
);

await testNeeding(
  "postgres",
  "serve HA: an instance a worker is connected to dies; the other instance's step on it goes on",
  async () => {
    await using ha = await haRepo("swamp-pg-multihome-kill-", (work) => ({
      "workflows/workflow-long.yaml": workflowFile(
        "long",
        shellStep(
          "slow",
          `echo begun >> ${work}/marks; sleep 3; echo done >> ${work}/marks`,
          '        labels: {pool: "shared"}\n',
        ),
      ),
    }));
    const owner = await ha.serve();
    const other = await ha.serve();
    const worker = await ha.worker(`${owner.url},${other.url}`, "wk", ["pool=shared"]);
    const started = await owner.cli(["workflow", "run", "long", "--detach", "--json"], ha.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    await eventually("the step to begin on the worker", async () => {
      const text = await Deno.readTextFile(`${ha.work}/marks`).catch(() => "");
      return text.includes("begun") ? true : undefined;
    });
    // The other instance counts the step against the worker's concurrency.
    await eventually("the other instance to count the step as running elsewhere", async () => {
      const listed = await other.cli(["worker", "list", "--json"], ha.token);
      const [listedWorker] = (listed.json as { workers: { runningElsewhere?: number }[] }).workers;
      return listedWorker?.runningElsewhere === 1 ? true : undefined;
    });
    const table = await other.cli(["worker", "list"], ha.token);
    assertMatch(table.stdout, /\s1\/1 \(1 elsewhere\)\s/);
    const before = worker.events.length;
    await other.kill();
    const store = await ha.store();
    const run = await eventually("the run to end", async () => {
      const folded = await loadFoldedRun(store, runId);
      return folded && folded.status !== RunStatus.RUNNING ? folded : undefined;
    }, 60_000);
    assertEquals(RunStatus[run.status], "SUCCEEDED", run.steps[0]?.reason);
    assertEquals(run.owner?.server, owner.instance, "nobody took the run over");
    const after = worker.events.slice(before).map((e) => String(e.event));
    assert(after.includes("disconnected"), `the worker saw the instance go (${after})`);
    for (const bad of ["fenced", "killed", "adopted"]) {
      assert(!after.includes(bad), `no ${bad} line after the other instance died (${after})`);
    }
    assertEquals(
      (await Deno.readTextFile(`${ha.work}/marks`)).trim().split("\n"),
      ["begun", "done"],
    );
  },
);
