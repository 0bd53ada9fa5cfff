// PostgreSQL at scale (issue 16): `workflow list --limit 20` and `workflow
// status ID` (the store reads they make: one listing page; a prefix lookup
// and a record load) at BENCH_PG_RUNS runs (default 200,000; 1,000,000 for the
// full size) against the same at 1,000 runs in the same run: p50/p99 and the
// ratio, which is ~1 when both are constant in the run count. Then the wake-up
// latency of a follower in another connection: append → notified by
// LISTEN/NOTIFY, against append → seen by a 150 ms poll. Informational: never
// fails on time.
//
// The cluster is a throwaway one (test/helpers/postgres.ts); the store is
// filled by plugins/stores/postgres/bulk_load.ts, a few thousand runs per
// statement through the store's own tables.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { RunEventSchema } from "../proto/gen/swamp/v1/event_pb.ts";
import { type Run, RunSchema, RunStatus, RunSummarySchema } from "../proto/gen/swamp/v1/run_pb.ts";
import { bulkLoadRuns, type BulkRun } from "../plugins/stores/postgres/bulk_load.ts";
import { openPostgresStore } from "../plugins/stores/postgres/mod.ts";
import type { RunStore } from "../runtime/mod.ts";
import { startPostgres } from "../test/helpers/postgres.ts";
import { envInt, percentile, table } from "./lib.ts";

const largeRuns = envInt("BENCH_PG_RUNS", 200_000);
const smallRuns = 1_000;
const samples = envInt("BENCH_PG_SAMPLES", 400);
const wakeups = envInt("BENCH_PG_WAKEUPS", 40);
const chunk = 50_000;
const baseMs = Date.UTC(2026, 0, 1);

function generateRun(i: number): BulkRun {
  const id = crypto.randomUUID();
  const createMs = baseMs + i * 1000;
  const status = i % 10 === 0 ? RunStatus.FAILED : RunStatus.SUCCEEDED;
  const fields = {
    id,
    workflowName: `workflow-${i % 20}`,
    actor: "bench",
    attempt: 1,
    createTime: timestampFromMs(createMs),
  };
  const initial = create(RunSchema, { ...fields, status: RunStatus.PENDING, revision: 1n });
  const event = (seq: bigint, payload: MessageInitShape<typeof RunEventSchema>["payload"]) =>
    create(RunEventSchema, {
      runId: id,
      seq,
      time: timestampFromMs(createMs),
      actor: "bench",
      payload,
    });
  return {
    events: [
      event(1n, { case: "runCreated", value: { run: initial } }),
      event(2n, {
        case: "runStatusChanged",
        value: { from: RunStatus.PENDING, to: RunStatus.RUNNING },
      }),
      event(3n, { case: "runStatusChanged", value: { from: RunStatus.RUNNING, to: status } }),
    ],
    summary: create(RunSummarySchema, { ...fields, status }),
    snapshot: create(RunSchema, { ...fields, status, revision: 3n }),
  };
}

/** Fills a database with `count` runs; returns some of their ids (for status lookups) and the seconds taken. */
async function fill(dsn: string, count: number): Promise<{ ids: string[]; seconds: number }> {
  const start = performance.now();
  const ids: string[] = [];
  for (let from = 0; from < count; from += chunk) {
    const runs = Array.from(
      { length: Math.min(chunk, count - from) },
      (_, i) => generateRun(from + i),
    );
    for (let i = 0; i < runs.length; i += Math.max(1, Math.floor(count / 2000))) {
      ids.push(runs[i].summary.id);
    }
    await bulkLoadRuns(dsn, runs);
  }
  return { ids, seconds: (performance.now() - start) / 1000 };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

interface Reads {
  list: number[];
  status: number[];
}

async function reads(store: RunStore, ids: string[]): Promise<Reads> {
  const list: number[] = [];
  const status: number[] = [];
  // The first reads of a fresh connection plan and cache: warm both up, unrecorded.
  for (let i = 0; i < 50; i++) {
    await store.listRuns({ limit: 20 });
    await store.findRunIds(ids[i % ids.length].slice(0, 8), 2);
  }
  for (let i = 0; i < samples; i++) {
    list.push(await timed(() => store.listRuns({ limit: 20 })));
    const id = ids[(i * 7919) % ids.length];
    // `workflow status ID` with an 8-character prefix: resolve it, then load the record.
    status.push(
      await timed(async () => {
        const [found] = await store.findRunIds(id.slice(0, 8), 2);
        await store.loadRun(found);
      }),
    );
  }
  return { list, status };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Append → the watcher store's subscription reports it, and append → a 150 ms poll sees it. */
async function wakeUp(dsn: string): Promise<{ notify: number[]; poll: number[] }> {
  const writer = await openPostgresStore(dsn);
  const watcher = await openPostgresStore(dsn);
  const poller = await openPostgresStore(dsn);
  const [run] = Array.from({ length: 1 }, () => generateRun(0));
  const id = run.summary.id;
  const initial = (run.events[0].payload.value as { run: Run }).run;
  const pending = create(RunSummarySchema, { ...run.summary, status: RunStatus.PENDING });
  await writer.createRun(run.events[0], pending, initial);
  const appendedAt = new Map<bigint, number>();
  const notify: number[] = [];
  const poll: number[] = [];
  let notified: (() => void) | undefined;
  const stop = await watcher.subscribe!(id, (change) => {
    if (change?.kind === "events") notified?.();
  });
  let polling = true;
  let seen = 1n;
  const pollLoop = (async () => {
    while (polling) {
      for (const event of await poller.readEvents(id, seen)) {
        seen = event.seq;
        const at = appendedAt.get(event.seq);
        if (at !== undefined) poll.push(performance.now() - at);
      }
      await delay(150);
    }
  })();
  for (let seq = 2n; seq < 2n + BigInt(wakeups); seq++) {
    await delay(Math.random() * 150);
    const woken = new Promise<void>((resolve) => notified = resolve);
    const start = performance.now();
    appendedAt.set(seq, start);
    await writer.append({
      runId: id,
      expectedSeq: seq - 1n,
      events: [
        create(RunEventSchema, {
          runId: id,
          seq,
          actor: "bench",
          payload: { case: "heartbeat", value: {} },
        }),
      ],
      summary: pending,
    });
    await woken;
    notify.push(performance.now() - start);
  }
  await delay(400);
  polling = false;
  await pollLoop;
  stop();
  await Promise.all([writer.close(), watcher.close(), poller.close()]);
  return { notify, poll };
}

export async function main(): Promise<void> {
  console.log(`PostgreSQL: list and status at ${smallRuns} and ${largeRuns} runs; wake-up latency`);
  const cluster = await startPostgres();
  try {
    const rows: (string | number)[][] = [];
    const measured: Reads[] = [];
    for (const count of [smallRuns, largeRuns]) {
      const dsn = await cluster.createDatabase();
      const { ids, seconds } = await fill(dsn, count);
      const dbName = /@\/([^?]+)/.exec(dsn)![1];
      await cluster.psql("ANALYZE", dbName);
      const store = await openPostgresStore(dsn);
      const r = await reads(store, ids);
      await store.close();
      measured.push(r);
      rows.push([
        `${count} runs (filled in ${seconds.toFixed(0)} s)`,
        percentile(r.list, 50),
        percentile(r.list, 99),
        percentile(r.status, 50),
        percentile(r.status, 99),
      ]);
    }
    const ratio = (pick: (r: Reads) => number[], p: number) =>
      percentile(pick(measured[1]), p) / percentile(pick(measured[0]), p);
    rows.push([
      `ratio ${largeRuns} / ${smallRuns}`,
      ratio((r) => r.list, 50),
      ratio((r) => r.list, 99),
      ratio((r) => r.status, 50),
      ratio((r) => r.status, 99),
    ]);
    console.log(
      table(["store reads (ms)", "list p50", "list p99", "status p50", "status p99"], rows),
    );
    console.log();
    const { notify, poll } = await wakeUp(await cluster.createDatabase());
    console.log(table(["append → follower knows (ms)", "p50", "p99", "max"], [
      ["LISTEN/NOTIFY", percentile(notify, 50), percentile(notify, 99), percentile(notify, 100)],
      ["poll every 150 ms", percentile(poll, 50), percentile(poll, 99), percentile(poll, 100)],
      ["ratio poll / notify (p50)", percentile(poll, 50) / percentile(notify, 50), "", ""],
    ]));
  } finally {
    await cluster.stop();
  }
}

if (import.meta.main) await main();
