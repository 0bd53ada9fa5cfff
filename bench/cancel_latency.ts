// Cancel latency of the loopback executor: from the abort (the cancel
// request) to the "confirmed" stage (no process of the step left), for a
// step that exits on SIGINT. Printed next to a baseline measured in the same
// run: spawning and waiting for `sh -c true`.
// Run: deno run --allow-all bench/cancel_latency.ts  (BENCH_CANCEL_RUNS, BENCH_WARMUP)
import { createLoopbackExecutor } from "../plugins/executors/loopback/mod.ts";
import { envInt, median, percentile, table, timeOnce } from "./lib.ts";

const TARGET_MS = 1000;

interface CancelSample {
  /** abort() → cancelStage "confirmed". */
  confirmed: number;
  /** abort() → exited. */
  exited: number;
}

async function cancelOnce(): Promise<CancelSample> {
  const executor = createLoopbackExecutor();
  const controller = new AbortController();
  let requested = 0;
  let confirmed = NaN;
  let exited = NaN;
  const events = executor.dispatch({
    runId: "bench",
    stepId: crypto.randomUUID(),
    command: { script: "echo ready; exec sleep 300" },
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    graceMs: 5000,
    outputLimitBytes: 1024,
  }, controller.signal);
  for await (const e of events) {
    if (e.type === "output" && e.line === "ready") {
      requested = performance.now();
      controller.abort();
    } else if (e.type === "cancelStage" && e.stage === "confirmed") {
      confirmed = performance.now() - requested;
    } else if (e.type === "exited") {
      exited = performance.now() - requested;
      if (!e.cancelled || Number.isNaN(confirmed)) {
        throw new Error(`the step was not cancelled and confirmed: ${JSON.stringify(e)}`);
      }
    }
  }
  return { confirmed, exited };
}

export async function main(): Promise<void> {
  const runs = envInt("BENCH_CANCEL_RUNS", 20);
  const warmup = envInt("BENCH_WARMUP", 3);
  const baseline = ["sh", "-c", "true"];
  for (let i = 0; i < warmup; i++) {
    await timeOnce(baseline);
    await cancelOnce();
  }
  const base: number[] = [];
  const samples: CancelSample[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await timeOnce(baseline));
    samples.push(await cancelOnce());
  }
  const confirmed = samples.map((s) => s.confirmed);
  const exited = samples.map((s) => s.exited);
  const baseMedian = median(base);
  console.log(
    `Cancel latency (loopback executor): ${warmup} warm-up + ${runs} timed runs, interleaved; ` +
      "step `echo ready; exec sleep 300`, cancelled once it printed ready",
  );
  const row = (label: string, values: number[]) => [
    label,
    median(values),
    percentile(values, 90),
    (median(values) / baseMedian).toFixed(2),
  ];
  console.log(table(["case", "median ms", "p90 ms", "× baseline"], [
    row("spawn + wait `sh -c true` (baseline)", base),
    row("cancel request → confirmed", confirmed),
    row("cancel request → exited", exited),
  ]));
  const verdict = median(confirmed) < TARGET_MS ? "PASS" : "FAIL";
  console.log(
    `target (DESIGN §7): a cancelled step is confirmed gone under 1 s: ${verdict} ` +
      `(median ${median(confirmed).toFixed(1)} ms; informational only)`,
  );
}

if (import.meta.main) await main();
