// A step through the loopback executor alone (no engine, no store) against a
// raw spawn of the same command, in one run: what starting a step in its own
// session costs, with posix_spawn (the default, docs/design/0009) and with
// setsid(1) (the fallback), and with its output written into spool files
// (docs/design/0024) instead of pipes. Numbers are informational; nothing
// fails on time.
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
  const spoolDir = await Deno.makeTempDir({ prefix: "swamp-bench-spool-" });
  const posix = createLoopbackExecutor({});
  const executors: [string, ReturnType<typeof createLoopbackExecutor>, boolean][] = [
    ["posix_spawn", posix, false],
    ["posix_spawn, output spooled", posix, true],
    ["setsid(1)", createLoopbackExecutor({ spawn: "setsid" }), false],
  ];
  const cases: [string, (i: number) => Promise<void>][] = [
    ["raw spawn of sh -c true (baseline)", rawSpawn],
    ...executors.map(([name, executor, spooled]): [string, (i: number) => Promise<void>] => [
      `loopback step, ${name}`,
      async (i) => {
        const work = step(i);
        // As the engine does: the files are removed once the step is over.
        if (spooled) work.spool = { dir: spoolDir, name: `step-${i}.1` };
        for await (const _ of executor.dispatch(work, new AbortController().signal)) {
          // every event read, as the engine reads them
        }
        if (spooled) {
          Deno.removeSync(`${spoolDir}/step-${i}.1.out`);
          Deno.removeSync(`${spoolDir}/step-${i}.1.err`);
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
  console.log(
    `spooled / piped (posix_spawn): ${(median(times[2]) / median(times[1])).toFixed(2)}×`,
  );
  await Deno.remove(spoolDir, { recursive: true });
}

if (import.meta.main) await main();
