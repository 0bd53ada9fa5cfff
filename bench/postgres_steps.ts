// Runs on PostgreSQL against SQLite in the same run (issue 16): the per-step
// cycle of a sequential run of no-op command/shell steps (from the run
// record: start of step n → start of step n+1), and the wall time per item of
// a forEach fan-out (concurrency 16), each through the real CLI and
// supervisor, on a SQLite store and on a throwaway PostgreSQL cluster
// (test/helpers/postgres.ts, unix socket). Informational: never fails on time.
// Run: deno run --allow-all bench/postgres_steps.ts
//   BENCH_PG_SEQ_STEPS (100), BENCH_PG_FANOUT (1000; 10000 for the full size)
import { envInt, median, percentile, table, withTempDir } from "./lib.ts";
import {
  between,
  fanOutWorkflow,
  runFollowed,
  runRecord,
  sequentialWorkflow,
  swamp,
  writeWorkflow,
} from "./runs_lib.ts";
import { startPostgres } from "../test/helpers/postgres.ts";

const steps = envInt("BENCH_PG_SEQ_STEPS", 100);
const items = envInt("BENCH_PG_FANOUT", 1_000);

interface Figures {
  cycles: number[];
  fanOutMs: number;
}

async function measureStore(dir: string, name: string, init: string[]): Promise<Figures> {
  await swamp(dir, "repo", "init", name, ...init);
  const repo = `${dir}/${name}`;
  await writeWorkflow(repo, "seq", sequentialWorkflow("seq", steps));
  await writeWorkflow(repo, "fan", fanOutWorkflow("fan", items, 16));
  await runFollowed(repo, "seq"); // warm-up
  const seq = await runFollowed(repo, "seq");
  const record = await runRecord(repo, seq.runId);
  if (record.status !== "succeeded") throw new Error(`seq ended ${record.status}`);
  const ordered = record.steps.filter((s) => (s.itemIndex ?? -1) < 0).sort((a, b) =>
    a.id.localeCompare(b.id)
  );
  const cycles = ordered.slice(1).map((s, i) => between(ordered[i].startTime, s.startTime));
  const fan = await runFollowed(repo, "fan");
  const fanRecord = await runRecord(repo, fan.runId);
  if (fanRecord.status !== "succeeded") throw new Error(`fan ended ${fanRecord.status}`);
  return { cycles, fanOutMs: fan.ms };
}

export async function main(): Promise<void> {
  console.log(
    `Steps on PostgreSQL against SQLite: ${steps} sequential no-op steps; forEach over ${items} items (concurrency 16)`,
  );
  const cluster = await startPostgres();
  try {
    await withTempDir("swamp-bench-pg-", async (dir) => {
      const sqlite = await measureStore(dir, "lite", ["--store", "sqlite"]);
      const dsn = await cluster.createDatabase();
      const pg = await measureStore(dir, "pg", ["--store", "postgres", "--dsn", dsn]);
      const row = (label: string, f: Figures) => [
        label,
        median(f.cycles),
        percentile(f.cycles, 90),
        f.fanOutMs / items,
        f.fanOutMs / 1000,
      ];
      console.log(table(
        ["store", "step cycle p50 ms", "p90 ms", "fan-out ms/item", "fan-out wall s"],
        [
          row("sqlite (baseline)", sqlite),
          row("postgres", pg),
          [
            "ratio postgres / sqlite",
            median(pg.cycles) / median(sqlite.cycles),
            percentile(pg.cycles, 90) / percentile(sqlite.cycles, 90),
            pg.fanOutMs / sqlite.fanOutMs,
            pg.fanOutMs / sqlite.fanOutMs,
          ],
        ],
      ));
    });
  } finally {
    await cluster.stop();
  }
}

if (import.meta.main) await main();
