// The API on any instance of `swamp serve` sharing a PostgreSQL store
// (decision 0027), with real processes: a run owned by one instance is read
// and cancelled through another; and a gate's timeout, watched by the timers
// of two instances, takes effect exactly once.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually, gateStep, initRepo, shellStep, workflowFile } from "../helpers/runs.ts";
import { sharedPostgres } from "../helpers/postgres.ts";
import { mintToken, type ServeProcess, startServe } from "../helpers/serve.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

const cluster = sharedPostgres();

/** A repository on a fresh database of the shared cluster, with `files`, and two instances. */
async function twoInstances(files: Record<string, string>) {
  const c = await cluster.get();
  const dsn = await c.createDatabase();
  const work = await Deno.makeTempDir({ prefix: "swamp-pg-api-" });
  const root = `${work}/repo`;
  await initRepo(root, "postgres", files, dsn);
  const token = await mintToken(root, "ops", "approver");
  const servers: ServeProcess[] = [await startServe(root), await startServe(root)];
  return {
    dsn,
    work,
    token,
    servers,
    async [Symbol.asyncDispose]() {
      for (const server of servers) await server.kill().catch(() => {});
      await Deno.remove(work, { recursive: true });
    },
  };
}

await testNeeding(
  "postgres",
  "serve HA: a run owned by one instance is read and cancelled through another",
  async () => {
    await using env = await twoInstances({
      "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("wait", "sleep 60")),
    });
    const [a, b] = env.servers;
    const started = await a.cli(["workflow", "run", "slow", "--detach", "--json"], env.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    const seen = await eventually(
      "the step to run, as read through the other instance",
      async () => {
        const status = await b.cli(["workflow", "status", runId, "--json"], env.token);
        const run = (status.json as { run?: { status: string; steps: { status: string }[] } })?.run;
        return run?.steps[0]?.status === "running" ? run : undefined;
      },
    );
    assertEquals(seen.status, "running");
    const cancel = await b.cli(["workflow", "cancel", runId, "--json"], env.token);
    assertEquals(cancel.code, 0, `${cancel.stdout}\n${cancel.stderr}`);
    const store = await openPostgresStore(env.dsn);
    try {
      const ended = await eventually("the owner to carry the cancel out", async () => {
        const run = await loadFoldedRun(store, runId);
        return run?.status === RunStatus.CANCELLED ? run : undefined;
      });
      assertEquals(ended.owner?.server, a.instance, "the owner did not change");
      assertEquals(ended.steps[0].status, StepStatus.CANCELLED);
    } finally {
      await store.close();
    }
  },
);

await testNeeding(
  "postgres",
  "serve HA: a gate's timeout, watched by two instances' timers, takes effect once",
  async () => {
    await using env = await twoInstances({
      "workflows/workflow-gated.yaml": workflowFile(
        "gated",
        gateStep("confirm", "", "          timeout: 2s\n"),
      ),
    });
    const [a] = env.servers;
    const started = await a.cli(["workflow", "run", "gated", "--detach", "--json"], env.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    const store = await openPostgresStore(env.dsn);
    try {
      // Nobody reads the run: only the two servers' timers can apply the timeout.
      const ended = await eventually("a timer to apply the gate's timeout", async () => {
        const run = await loadFoldedRun(store, runId);
        return run?.status === RunStatus.FAILED ? run : undefined;
      });
      assertEquals(ended.steps[0].status, StepStatus.FAILED, ended.steps[0].reason);
      const events = await store.readEvents(runId, 0n);
      const leftGate = events.filter((e) =>
        e.payload.case === "stepStatusChanged" &&
        e.payload.value.from === StepStatus.WAITING_APPROVAL
      );
      assertEquals(leftGate.length, 1, "the timeout was applied once");
      const seqs = events.map((e) => e.seq);
      assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)));
      assert(leftGate[0].reason !== "", "the timeout says why");
    } finally {
      await store.close();
    }
  },
);
