// Faults of a PostgreSQL store under `swamp serve` (decision 0027), real
// processes and a real cluster: the database restarted (stopped by pid,
// immediate shutdown) while a run executes; and a connection terminated
// (`pg_terminate_backend` from another connection) while a write is in
// flight, blocked inside its transaction.
import { create } from "@bufbuild/protobuf";
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { eventually, markedChain } from "../helpers/runs.ts";
import { findPostgresBin, sharedPostgres, startPostgres } from "../helpers/postgres.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { foldEvents, summarize } from "../../runtime/run/fold.ts";
import { RunSchema, RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  HeartbeatSchema,
  RunCreatedSchema,
  RunEventSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { SwampError } from "../../runtime/errors/mod.ts";

Deno.test({
  name:
    "[postgres] serve on postgres: the database restarted during a run; the run ends, nothing lost " +
    "(ignored: on a loaded machine the run can hang after the restart, 2 of 2 runs at merge; " +
    "issue 16, not fixed yet)",
  ignore: true,
  fn: async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-restart-" });
    try {
      const dsn = await cluster.createDatabase();
      const root = `${work}/repo`;
      const init = await runCli(["repo", "init", root, "--store", "postgres", "--dsn", dsn]);
      assertEquals(init.code, 0, init.stderr);
      const marks = `${work}/marks`;
      await Deno.mkdir(`${root}/workflows`, { recursive: true });
      await Deno.writeTextFile(`${root}/workflows/workflow-chain.yaml`, markedChain(8, marks, 0.7));
      const token = await mintToken(root, "ops", "operator");
      await using server = await startServe(root);
      const started = await server.cli(["workflow", "run", "chain", "--detach", "--json"], token);
      assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
      const runId = (started.json as { run: { id: string } }).run.id;
      await eventually("two steps to complete", async () => {
        const text = await Deno.readTextFile(marks).catch(() => "");
        return text.includes("s2") ? true : undefined;
      });
      await cluster.restart(2000);
      const store = await openPostgresStore(dsn);
      try {
        const ended = await eventually("the run to end", async () => {
          const stored = await store.loadRun(runId);
          const run = stored ? foldEvents(stored.snapshot, stored.tail) : undefined;
          return run && run.status !== RunStatus.RUNNING && run.status !== RunStatus.PENDING
            ? run
            : undefined;
        }, 90_000);
        const events = await store.readEvents(runId, 0n);
        const seqs = events.map((e) => e.seq);
        assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "no event lost or duplicated");
        const lines = (await Deno.readTextFile(marks)).trim().split("\n");
        assertEquals(lines.length, new Set(lines).size, "a step completed twice");
        const story = ended.steps.map((s) => `${s.name}: ${StepStatus[s.status]} ${s.reason}`);
        console.log(`after the restart: run ${RunStatus[ended.status]}`);
        // Either outcome is clear: succeeded with every step, or ended with a reason that says why.
        if (ended.status === RunStatus.SUCCEEDED) assertEquals(new Set(lines).size, 8);
        else assert(ended.reason !== "", story.join("\n"));
        // The server is still serving on the restarted database.
        const status = await server.cli(["workflow", "status", runId, "--json"], token);
        assertEquals(
          status.code === 0 || status.code === 1 || status.code === 11,
          true,
          status.stderr,
        );
      } finally {
        await store.close();
      }
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});

/** A `psql` session kept open on stdin: what it is told runs in order, in one connection. */
function psqlSession(bin: string, dsn: string) {
  const child = new Deno.Command(`${bin}/psql`, {
    args: ["-X", "-q", "-At", "-d", dsn],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  return {
    send: (sql: string) => writer.write(new TextEncoder().encode(`${sql}\n`)),
    async close() {
      await writer.close().catch(() => {});
      await child.status;
    },
  };
}

const shared = sharedPostgres();

await testNeeding(
  "postgres",
  "postgres store: a connection terminated mid-transaction fails that write cleanly",
  async () => {
    const cluster = await shared.get();
    const dsn = await cluster.createDatabase();
    const store = await openPostgresStore(dsn);
    const bin = (await findPostgresBin())!;
    const holder = psqlSession(bin, dsn);
    try {
      const id = crypto.randomUUID();
      const run = create(RunSchema, { id, status: RunStatus.PENDING, attempt: 1, revision: 1n });
      const first = create(RunEventSchema, {
        runId: id,
        seq: 1n,
        payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
      });
      await store.createRun(first, summarize(run), run);
      const beat = (seq: bigint) => ({
        runId: id,
        expectedSeq: seq - 1n,
        events: [create(RunEventSchema, {
          runId: id,
          seq,
          payload: { case: "heartbeat" as const, value: create(HeartbeatSchema, {}) },
        })],
        summary: summarize(run),
      });
      // Another session holds the run's row: the append below waits inside its transaction.
      await holder.send(`BEGIN; SELECT id FROM runs WHERE id = '${id}' FOR UPDATE;`);
      const db = /@\/([^?]+)/.exec(dsn)![1];
      await eventually("the holder's lock", async () =>
        (await cluster.psql(
            `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid ` +
              `WHERE a.datname = '${db}' AND l.locktype = 'transactionid' AND l.granted`,
          )).trim() !== "0" || undefined);
      // Its outcome is taken at once: the failure can arrive before the termination's answer.
      const inFlight = store.append(beat(2n)).then(() => "written", (error: unknown) => error);
      const waiting = await eventually("the append to wait for the lock", async () => {
        const pid = (await cluster.psql(
          `SELECT pid FROM pg_stat_activity WHERE datname = '${db}' AND wait_event_type = 'Lock'`,
        )).trim();
        return pid || undefined;
      });
      assertEquals(
        (await cluster.psql(`SELECT pg_terminate_backend(${waiting})`)).trim(),
        "t",
      );
      const failed = await inFlight;
      assert(failed instanceof SwampError, String(failed));
      assertEquals(failed.codeName, "store_unreachable", failed.message);
      await holder.send("ROLLBACK;");
      // Nothing of it was written, and the store works on: the next append is seq 2.
      assertEquals((await store.readEvents(id, 0n)).map((e) => e.seq), [1n]);
      await store.append(beat(2n));
      assertEquals((await store.readEvents(id, 0n)).map((e) => e.seq), [1n, 2n]);
    } finally {
      await holder.close();
      await store.close();
    }
  },
);
