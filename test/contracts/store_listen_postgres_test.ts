// LISTEN/NOTIFY across real processes on a real cluster (decision 0028): a
// watcher process whose poll interval is an hour sees each event another
// process appends, so only a notification can have delivered it; and after
// its listening connection is ended by the server (pg_terminate_backend), the
// events appended meanwhile still reach it (it reads again on reconnecting).
import { assert, assertEquals } from "../helpers/assert.ts";
import { testNeeding } from "../helpers/capabilities.ts";
import { sharedPostgres } from "../helpers/postgres.ts";
import { event, newRun } from "./store_messages.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { create } from "@bufbuild/protobuf";
import { engineHarness, shell, workflowOf } from "../helpers/engine.ts";
import { fileAppears } from "../helpers/runs.ts";
import { RunJournal } from "../../runtime/run/journal.ts";
import { RunStatus } from "../../runtime/run/status.ts";
import { systemClock } from "../../runtime/mod.ts";
import { CancelRequestedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";

const cluster = sharedPostgres();
const dbName = (dsn: string) => /@\/([^?]+)/.exec(dsn)![1];
const watcher = new URL("../helpers/pg_change_watcher.ts", import.meta.url).pathname;
const deno = Deno.execPath();

await testNeeding(
  "postgres",
  "postgres: an append in one process wakes a watcher in another, and a dropped listening connection loses nothing",
  async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    const store = await openPostgresStore(dsn);
    const run = newRun();
    const id = run.shape.id;
    await store.createRun(run.first, run.summary, run.snapshot);
    const child = new Deno.Command(deno, {
      args: ["run", "--allow-all", watcher, dsn, id, "6"],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // Not a timing assertion: only keeps a broken build from hanging the suite.
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const chunks = child.stdout.pipeThrough(new TextDecoderStream())[Symbol.asyncIterator]();
    let buffered = "";
    /** The watcher's next line (undefined once its output ends). */
    const next = async (): Promise<string | undefined> => {
      while (!buffered.includes("\n")) {
        const chunk = await chunks.next();
        if (chunk.done) return undefined;
        buffered += chunk.value;
      }
      const end = buffered.indexOf("\n");
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      return line;
    };
    try {
      assertEquals(await next(), "ready");
      assertEquals(await next(), "seq 1");
      const append = (seq: bigint) =>
        store.append({
          runId: id,
          expectedSeq: seq - 1n,
          events: [event(id, seq)],
          summary: run.summary,
        });
      for (const seq of [2n, 3n]) {
        await append(seq);
        assertEquals(await next(), `seq ${seq}`);
      }
      const listening = () =>
        c.psql(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'swamp-listen'",
          dbName(dsn),
        );
      const before = (await listening()).trim();
      assert(/^\d+$/.test(before), `one listening connection, found: ${before}`);
      await c.psql(`SELECT pg_terminate_backend(${before})`, dbName(dsn));
      // Appended while the watcher has no listening connection (or just got it back).
      for (const seq of [4n, 5n, 6n]) await append(seq);
      const seen = [await next(), await next(), await next()];
      assertEquals(seen, ["seq 4", "seq 5", "seq 6"]);
      assertEquals((await child.status).code, 0);
    } finally {
      clearTimeout(guard);
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await store.close();
    }
  },
);

await testNeeding(
  "postgres",
  "postgres: a run's owner hears of a cancel another writer stored at once, its poll an hour away",
  async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    // An hour between the engine's own looks at the store: only a notification can wake it.
    await using engine = await engineHarness({
      store: await openPostgresStore(dsn),
      pollMs: 3_600_000,
    });
    const started = `${engine.dir}/started`;
    const run = await engine.start(
      workflowOf("held", [{ name: "main", steps: [shell("hold", `touch ${started}; sleep 300`)] }]),
    );
    await fileAppears(started);
    // Another writer (a CLI or a server on another host, which cannot signal the owner).
    const other = await openPostgresStore(dsn);
    try {
      const journal = await RunJournal.open(other, run.runId, systemClock, "operator");
      await journal.append({
        reason: "stop it",
        payload: {
          case: "cancelRequested",
          value: create(CancelRequestedSchema, { requestedBy: "operator" }),
        },
      });
    } finally {
      await other.close();
    }
    // Not a timing assertion: a bound that keeps a broken build from waiting the hour.
    let unheard = false;
    const bound = setTimeout(() => {
      unheard = true;
      run.cancel();
    }, 30_000);
    const ended = await run.done.finally(() => clearTimeout(bound));
    assert(!unheard, "the owner did not hear of the cancel");
    assertEquals(RunStatus[ended.status], "CANCELLED", ended.reason);
  },
);
