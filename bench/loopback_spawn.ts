// A step through the loopback executor alone (no engine, no store) against a
// raw spawn of the same command, in one run: what starting a step in its own
// session costs, with posix_spawn (the default, docs/design/0009) and with
// setsid(1) (the fallback). Numbers are informational; nothing fails on time.
// Run: deno run --allow-all bench/loopback_spawn.ts   (BENCH_SPAWNS, default 200)
import type { StepWork } from "../runtime/mod.ts";
import { createLoopbackExecutor } from "../plugins/executors/loopback/mod.ts";
import { envInt, median, table } from "./lib.ts";
import { rawSpawn } from "./runs_lib.ts";

const step = (i: number): StepWork => ({
  runId: "bench",
  stepId: `step-${i}`,
  command: { script: "true" },
  env: { PATH: "/usr/bin:/bin" },
  graceMs: 300,
  outputLimitBytes: 1 << 20,
});

export async function main(): Promise<void> {
  const n = envInt("BENCH_SPAWNS", 200);
  const executors = {
    posix_spawn: createLoopbackExecutor({}),
    "setsid(1)": createLoopbackExecutor({ spawn: "setsid" }),
  };
  const cases: [string, (i: number) => Promise<void>][] = [
    ["raw spawn of sh -c true (baseline)", rawSpawn],
    ...Object.entries(executors).map(([name, executor]): [string, (i: number) => Promise<void>] => [
      `loopback step, ${name}`,
      async (i) => {
        for await (const _ of executor.dispatch(step(i), new AbortController().signal)) {
          // every event read, as the engine reads them
        }
      },
    ]),
  ];
  const times = cases.map(() => [] as number[]);
  // Interleaved in rounds of 20, so that a slow spell of the host hits every case alike.
  for (let round = 0; round < Math.ceil(n / 20); round++) {
    for (const [c, [, run]] of cases.entries()) {
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        await run(i);
        times[c].push(performance.now() - start);
      }
    }
  }
  const base = median(times[0]);
  console.log(`Loopback executor: one no-op step (\`sh -c true\`) start to exit, ${n} of each`);
  console.log(table(
    ["case", "median ms", "× raw"],
    cases.map(([label], c) => [
      label,
      median(times[c]).toFixed(2),
      (median(times[c]) / base).toFixed(2),
    ]),
  ));
}

if (import.meta.main) await main();
