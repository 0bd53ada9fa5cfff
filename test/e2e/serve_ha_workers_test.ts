// Workers on another instance only (decisions 0027, 0031: a run uses the
// workers connected to its owner instance, and a worker given one URL is
// connected to that instance alone), with real processes on a real PostgreSQL: two
// `swamp serve` instances, a worker connected to the second only, and a run
// submitted to the first whose step is placed on that worker's label. The
// step waits, and why says where the worker is and what to do, instead of
// "no connected worker": each instance publishes its workers in the store.
import { testNeeding } from "../helpers/capabilities.ts";
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { eventually, shellStep, workflowFile } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

await testNeeding(
  "postgres",
  "serve HA: a step placed on a worker of another instance waits, saying where that worker is",
  async () => {
    await using ha = await haRepo("swamp-pg-ha-workers-", {
      "workflows/workflow-placed.yaml": workflowFile(
        "placed",
        shellStep("there", "echo there", '        labels: {pool: "far"}\n'),
      ),
    });
    const here = await ha.serve();
    const far = await ha.serve();
    await ha.worker(far.url, "wf", ["pool=far"]);
    const store = await ha.store();
    // Published by the far instance, then read by this one within its next beat.
    await eventually("the far instance to publish its worker", async () => {
      const rows = await store.instances!.list();
      return rows.find((i) => i.id === far.instance)?.workers.length === 1 ? true : undefined;
    });
    let reason = "";
    await eventually("the step to wait with the far worker named", async () => {
      const started = await here.cli(["workflow", "run", "placed", "--detach", "--json"], ha.token);
      assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
      const runId = (started.json as { run: { id: string } }).run.id;
      reason = await eventually("the step to be queued", async () => {
        const step = (await loadFoldedRun(store, runId))?.steps[0];
        return step?.status === StepStatus.QUEUED && step.waiting?.on.case === "worker"
          ? step.waiting.on.value
          : undefined;
      });
      assertEquals((await here.cli(["workflow", "cancel", runId], ha.token)).code, 0);
      return reason.includes("connected to other instances") ? true : undefined;
    });
    assertMatch(
      reason,
      new RegExp(
        `^no connected worker has labels \\{pool: "far"\\}; 0 workers connected; ` +
          `connected to other instances: wf on instance ${far.instance} \\([^)]+\\)\\. ` +
          "A run uses the workers connected to the instance that owns it: give the worker " +
          "this instance's URL too",
      ),
    );
  },
);
