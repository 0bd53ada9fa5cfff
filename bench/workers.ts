// Remote workers against the loopback executor, in one run (issue 13):
//  (a) per-step overhead: one `true` step at a time through the remote
//      executor (an in-process hub on the real TLS Connect server, one real
//      `swamp worker connect` on this host) against the loopback executor;
//  (b) fan-out: 1,000 `true` steps over 4 workers (4 each) against the
//      loopback executor with the same total concurrency on the same cores;
//  (c) idle workers: the hub's RSS and CPU per connected idle worker and the
//      heartbeat cost per minute (bench/workers_idle.ts, `swamp serve` in a
//      child process);
//  (d) the per-step cost a user sees in a run: a sequential workflow on the
//      orchestrator against the same workflow placed on one worker, through
//      `swamp serve` (bench/workers_runs.ts).
// Numbers are informational; targets print PASS/FAIL and nothing fails.
// Run: deno run --allow-all bench/workers.ts
// Scale down: BENCH_WORKERS_STEPS (a, default 200), BENCH_WORKERS_FANOUT (b, 1000),
// BENCH_WORKERS_COUNT (b, 4), BENCH_WORKERS_EACH (b, 4), BENCH_WORKERS_IDLE (c, 100),
// BENCH_WORKERS_WINDOW_S (c, 20), BENCH_WORKERS_RUN_STEPS (d, 40), BENCH_WORKERS_RUN_ROUNDS (d, 7).
// BENCH_WORKERS_PARTS picks parts (default a,b,c,d).
import type { Executor, StepWork } from "../runtime/mod.ts";
import { createLoopbackExecutor } from "../plugins/executors/loopback/mod.ts";
import { createRemoteExecutor } from "../plugins/executors/remote/mod.ts";
import { startTestHub } from "../test/helpers/hub.ts";
import { envInt, median, percentile, table } from "./lib.ts";
import { main as idle } from "./workers_idle.ts";
import { main as inRuns } from "./workers_runs.ts";

const verdict = (ok: boolean) => ok ? "PASS" : "FAIL";

const step = (i: number): StepWork => ({
  runId: "bench-workers",
  stepId: `step-${i}`,
  command: { script: "true" },
  env: { PATH: "/usr/bin:/bin" },
  graceMs: 300,
  outputLimitBytes: 1 << 20,
});

/** One step start to exit, every event read; throws unless it exited 0. */
async function runStep(executor: Executor, i: number): Promise<void> {
  let code: number | undefined;
  for await (const e of executor.dispatch(step(i), new AbortController().signal)) {
    if (e.type === "exited") code = e.exitCode;
  }
  if (code !== 0) throw new Error(`${executor.name} step ${i} exited ${code}`);
}

/** `n` steps with at most `concurrency` at once; the wall time in ms. */
async function fanOut(executor: Executor, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await runStep(executor, next++);
  }));
  return performance.now() - start;
}

async function overhead(n: number): Promise<void> {
  // The hub's leases in each store kind: a lease taken or released is a locked file rewrite
  // in the file store, a WAL commit in SQLite; neither is flushed to disk (decision 0013).
  await using fileHub = await startTestHub({ store: "file" });
  await using sqliteHub = await startTestHub({ store: "sqlite" });
  await fileHub.connect("bench-1");
  await sqliteHub.connect("bench-2");
  const cases: [string, Executor][] = [
    ["loopback step (baseline)", createLoopbackExecutor()],
    ["remote step, 1 worker, file store", createRemoteExecutor({ dispatcher: fileHub.hub })],
    ["remote step, 1 worker, SQLite store", createRemoteExecutor({ dispatcher: sqliteHub.hub })],
  ];
  for (const [, executor] of cases) for (let i = 0; i < 10; i++) await runStep(executor, i);
  const times = cases.map(() => [] as number[]);
  // Interleaved in rounds of 20, so a slow spell of the host hits all alike.
  for (let round = 0; round < Math.ceil(n / 20); round++) {
    for (const [c, [, executor]] of cases.entries()) {
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        await runStep(executor, round * 20 + i);
        times[c].push(performance.now() - start);
      }
    }
  }
  const base = median(times[0]);
  console.log(`(a) one \`true\` step, start to exit through the executor, ${n} of each`);
  console.log(table(
    ["case", "median ms", "p90 ms", "× loopback (median)", "× loopback (p90)"],
    cases.map(([label], c) => [
      label,
      median(times[c]).toFixed(2),
      percentile(times[c], 90).toFixed(2),
      (median(times[c]) / base).toFixed(2),
      (percentile(times[c], 90) / percentile(times[0], 90)).toFixed(2),
    ]),
  ));
  for (const [c, [label]] of cases.entries()) {
    if (c === 0) continue;
    const ratio = median(times[c]) / base;
    console.log(
      `target: ${label} ≤ 2.0× loopback (median): ${ratio.toFixed(2)}× ${verdict(ratio <= 2)}`,
    );
  }
}

async function fanOutCase(n: number, workers: number, each: number): Promise<void> {
  await using t = await startTestHub();
  for (let w = 1; w <= workers; w++) await t.connect(`fan-${w}`, ["--concurrency", String(each)]);
  const remote = createRemoteExecutor({ dispatcher: t.hub });
  const loopback = createLoopbackExecutor();
  const total = workers * each;
  await fanOut(loopback, total * 2, total); // warm both
  await fanOut(remote, total * 2, total);
  const loopMs = await fanOut(loopback, n, total);
  const remoteMs = await fanOut(remote, n, total);
  const rate = (ms: number) => n / (ms / 1000);
  console.log(
    `(b) ${n} \`true\` steps, ${total} at a time: ${workers} workers × ${each} against ` +
      `loopback, ${navigator.hardwareConcurrency} CPUs`,
  );
  console.log(table(["case", "wall s", "steps/s", "× loopback throughput"], [
    ["loopback executor (baseline)", (loopMs / 1000).toFixed(2), rate(loopMs).toFixed(1), "1.00"],
    [
      `remote executor, ${workers} workers`,
      (remoteMs / 1000).toFixed(2),
      rate(remoteMs).toFixed(1),
      (rate(remoteMs) / rate(loopMs)).toFixed(2),
    ],
  ]));
  console.log(
    "the workers share this host's cores with the hub: the ratio is the protocol's cost, " +
      "not a speed-up",
  );
}

export async function main(): Promise<void> {
  console.log("Remote workers (bench/workers.ts)");
  const parts = (Deno.env.get("BENCH_WORKERS_PARTS") ?? "a,b,c,d").split(",");
  if (parts.includes("a")) {
    await overhead(envInt("BENCH_WORKERS_STEPS", 200));
    console.log();
  }
  if (parts.includes("b")) {
    await fanOutCase(
      envInt("BENCH_WORKERS_FANOUT", 1000),
      envInt("BENCH_WORKERS_COUNT", 4),
      envInt("BENCH_WORKERS_EACH", 4),
    );
    console.log();
  }
  if (parts.includes("c")) {
    await idle();
    console.log();
  }
  if (parts.includes("d")) await inRuns();
}

if (import.meta.main) await main();
