// The cost of evaluating against a variable by its size (issue 18), on both
// paths, so the sandbox's variable limit (8 MiB of JSON) is chosen from a
// measurement: one expression reading a list of integers whose JSON is 1 KiB
// to the cap, a new value each time (nothing kept from the batch before),
// against the same expression on a three-item list. CPU deadline 100 ms.
// Numbers are informational. Run: deno run --allow-all bench/cel_bindings.ts
import { CelEvaluator } from "../wasm/evaluator.ts";
import { envInt, median, table } from "./lib.ts";

/** A list of integers whose JSON is about `bytes` long, each call a different one. */
let salt = 0;
function listOf(bytes: number): number[] {
  salt++;
  const n = Math.max(3, Math.floor(bytes / 8));
  return Array.from({ length: n }, (_, i) => 1_000_000 + ((i + salt) % 1_000_000));
}

const sizes = [1 << 10, 16 << 10, 256 << 10, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 7.5 * (1 << 20)];
const repeat = envInt("BENCH_BINDING_RUNS", 5);

for (const fastPath of [true, false]) {
  const cel = new CelEvaluator({ fastPath });
  await cel.start();
  const rows: string[][] = [];
  let base = 0;
  for (const bytes of [24, ...sizes]) {
    const times: number[] = [];
    let outcome = "";
    for (let i = 0; i < repeat; i++) {
      const v = listOf(bytes);
      const start = performance.now();
      const [r] = await cel.evaluate(["size(v)"], { v });
      times.push(performance.now() - start);
      outcome = r.ok
        ? `ok (${r.value})`
        : r.error.replace(/^expression_limit_exceeded: /, "limit: ");
    }
    const ms = median(times);
    if (bytes === 24) base = ms;
    rows.push([
      bytes === 24
        ? "3 items (baseline)"
        : `${(JSON.stringify(listOf(bytes)).length / 1024).toFixed(0)} KiB`,
      ms.toFixed(1),
      (ms / base).toFixed(1),
      outcome.slice(0, 90),
    ]);
  }
  console.log(
    `\`size(v)\` with v a new list each time, ${
      fastPath ? "fast path" : "library"
    }, median of ${repeat}`,
  );
  console.log(table(["v's JSON", "ms", "× baseline", "result"], rows));
  console.log();
  await cel.close();
}
