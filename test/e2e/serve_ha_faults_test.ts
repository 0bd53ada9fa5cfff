// Faults of a PostgreSQL store under `swamp serve` (decision 0027), real
// processes and a real cluster: the database restarted (stopped by pid,
// immediate shutdown) while a run executes; restored from a backup taken
// earlier in the run, losing its last events; and a connection terminated
// (`pg_terminate_backend` from another connection) while a write is in
// flight, blocked inside its transaction.
import { create } from "@bufbuild/protobuf";
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually, initRepo, markedChain } from "../helpers/runs.ts";
import {
  findPostgresBin,
  type PostgresCluster,
  sharedPostgres,
  startPostgres,
} from "../helpers/postgres.ts";
import { mintToken, type ServeProcess, startServe } from "../helpers/serve.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { loadFoldedRun, summarize } from "../../runtime/run/fold.ts";
import { type Run, RunSchema, RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  HeartbeatSchema,
  RunCreatedSchema,
  RunEventSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { SwampError } from "../../runtime/errors/mod.ts";

interface Outcome {
  ended: Run;
  seqs: bigint[];
  marks: () => Promise<string[]>;
  server: ServeProcess;
  token: string;
}

/**
 * An 8-step chain run through `swamp serve` on its own cluster, `fault` done
 * to the database while it runs (it may wait for the steps' marks); `then`
 * sees how the run ended, the event seqs, the marks the steps wrote, and the
 * server.
 */
async function faultDuringRun(
  fault: (
    cluster: PostgresCluster,
    dsn: string,
    marked: (step: string) => Promise<unknown>,
  ) => Promise<void>,
  then: (outcome: Outcome) => Promise<void>,
) {
  const cluster = await startPostgres({ durable: true });
  const work = await Deno.makeTempDir({ prefix: "swamp-pg-fault-" });
  try {
    const dsn = await cluster.createDatabase();
    const root = `${work}/repo`;
    const marks = `${work}/marks`;
    const chain = markedChain(8, marks, 0.7);
    await initRepo(root, "postgres", { "workflows/workflow-chain.yaml": chain }, dsn);
    const token = await mintToken(root, "ops", "operator");
    await using server = await startServe(root);
    const started = await server.cli(["workflow", "run", "chain", "--detach", "--json"], token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;
    const read = async () => (await Deno.readTextFile(marks).catch(() => "")).trim().split("\n");
    await fault(
      cluster,
      dsn,
      (step) =>
        eventually(
          `step ${step} to complete`,
          async () => (await read()).includes(step) || undefined,
        ),
    );
    const store = await openPostgresStore(dsn);
    try {
      const ended = await eventually("the run to end", async () => {
        const run = await loadFoldedRun(store, runId);
        return run && run.status !== RunStatus.RUNNING && run.status !== RunStatus.PENDING
          ? run
          : undefined;
      }, 90_000);
      const seqs = (await store.readEvents(runId, 0n)).map((e) => e.seq);
      await then({ ended, seqs, marks: read, server, token });
    } finally {
      await store.close();
    }
  } finally {
    await cluster.stop();
    await Deno.remove(work, { recursive: true });
  }
}

const everyStep = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];

await testNeeding(
  "postgres",
  "serve on postgres: the database restarted during a run; the run rides it out, every step once",
  () =>
    faultDuringRun(async (cluster, _dsn, marked) => {
      await marked("s2");
      await cluster.restart(2000);
    }, async ({ ended, seqs, marks }) => {
      const story = ended.steps.map((s) => `${s.name}: ${StepStatus[s.status]} ${s.reason}`);
      assertEquals(RunStatus[ended.status], "SUCCEEDED", `${ended.reason}\n${story.join("\n")}`);
      assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "no event lost or duplicated");
      assertEquals(await marks(), everyStep);
    }),
);

/** The tables of runs, restored from a dump taken earlier while the owner keeps running. */
const runTables = ["runs", "events", "snapshots", "logs", "locks", "leases", "data_items"];

await testNeeding(
  "postgres",
  "serve on postgres: the database restored from a backup taken mid-run abandons the run, " +
    "saying the store lost events; a resume completes it",
  () =>
    faultDuringRun(async (cluster, dsn, marked) => {
      const bin = (await findPostgresBin())!;
      const dump = `${cluster.dir}/before.sql`;
      await marked("s1");
      const tables = runTables.flatMap((table) => ["-t", table]);
      await command(`${bin}/pg_dump`, ["--data-only", ...tables, "-f", dump, "-d", dsn]);
      await marked("s2");
      // One transaction: the owner's next write finds the run as the backup had it.
      await command(`${bin}/psql`, [
        "-X",
        "-q",
        "-1",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        dsn,
        "-c",
        `TRUNCATE ${runTables.join(", ")}`,
        "-f",
        dump,
      ]);
    }, async ({ ended, seqs, marks, server, token }) => {
      assertEquals(RunStatus[ended.status], "ABANDONED", ended.reason);
      assert(ended.reason.includes("the store lost acknowledged events"), ended.reason);
      assertEquals(seqs, seqs.map((_, i) => BigInt(i + 1)), "the events kept are whole");
      const resumed = await server.cli(["workflow", "resume", ended.id], token);
      assertEquals(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
      // The steps whose end the backup did not have ran again: none is missing.
      assertEquals([...new Set(await marks())].sort(), everyStep);
    }),
);

async function command(program: string, args: string[]) {
  const done = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(done.stderr);
  assertEquals(done.code, 0, `${program} ${args.join(" ")}: ${text}`);
}

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
