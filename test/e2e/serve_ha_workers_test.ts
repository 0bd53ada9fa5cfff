// Workers on another instance (decision 0027: a run uses only the workers of
// its owner instance), with real processes on a real PostgreSQL: two
// `swamp serve` instances, a worker connected to the second only, and a run
// submitted to the first whose step is placed on that worker's label. The
// step waits, and why says where the worker is and what to do, instead of
// "no connected worker": each instance publishes its workers in the store.
import { testNeeding } from "../helpers/capabilities.ts";
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { eventually, initRepo, shellStep, workflowFile } from "../helpers/runs.ts";
import { startPostgres } from "../helpers/postgres.ts";
import { mintToken, type ServeProcess, startServe } from "../helpers/serve.ts";
import { mintWorkerToken, startWorker, type WorkerProcess } from "../helpers/worker.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

await testNeeding(
  "postgres",
  "serve HA: a step placed on a worker of another instance waits, saying where that worker is",
  async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-ha-workers-" });
    const servers: ServeProcess[] = [];
    let worker: WorkerProcess | undefined;
    try {
      const dsn = await cluster.createDatabase();
      const root = `${work}/repo`;
      const placed = workflowFile(
        "placed",
        shellStep("there", "echo there", '        labels: {pool: "far"}\n'),
      );
      await initRepo(root, "postgres", { "workflows/workflow-placed.yaml": placed }, dsn);
      const token = await mintToken(root, "ops", "operator");
      for (let i = 0; i < 2; i++) servers.push(await startServe(root));
      const [here, far] = servers;
      worker = startWorker(far.url, [
        "--token",
        await mintWorkerToken(root, "wf", ["pool=far"]),
        "--cache-dir",
        `${work}/wf`,
      ]);
      await worker.waitFor("connected");
      const store = await openPostgresStore(dsn);
      try {
        // Published by the far instance, then read by this one within its next beat.
        await eventually("the far instance to publish its worker", async () => {
          const rows = await store.instances!.list();
          return rows.find((i) => i.id === far.instance)?.workers.length === 1 ? true : undefined;
        });
        let reason = "";
        await eventually("the step to wait with the far worker named", async () => {
          const started = await here.cli(
            ["workflow", "run", "placed", "--detach", "--json"],
            token,
          );
          assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
          const runId = (started.json as { run: { id: string } }).run.id;
          const step = await eventually("the step to be queued", async () => {
            const run = await loadFoldedRun(store, runId);
            const s = run?.steps[0];
            return s?.status === StepStatus.QUEUED && s.waiting?.on.case === "worker"
              ? s.waiting.on.value
              : undefined;
          });
          reason = step;
          assertEquals((await here.cli(["workflow", "cancel", runId], token)).code, 0);
          return reason.includes("connected to other instances") ? true : undefined;
        });
        assertMatch(
          reason,
          new RegExp(
            `^no connected worker has labels \\{pool: "far"\\}; 0 workers connected; ` +
              `connected to other instances: wf on instance ${far.instance} \\([^)]+\\)\\. ` +
              "A run uses only the workers of the instance that owns it",
          ),
        );
      } finally {
        await store.close();
      }
    } finally {
      await worker?.[Symbol.asyncDispose]().catch(() => {});
      for (const server of servers) await server.kill().catch(() => {});
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);
