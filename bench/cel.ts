// CEL evaluation speed in the WebAssembly sandbox versus the same library and
// the same sandbox program in V8, in one run; and the limits at work. Numbers
// are informational; nothing fails on time.
import { CelEvaluator } from "../wasm/evaluator.ts";
import { libraryBundle } from "../wasm/library_bundle.ts";
import { type CelLibraryName, installInV8 } from "../wasm/sandbox_program.ts";

/** The five templating expressions of issue 5. */
const EXPRESSIONS = [
  'inputs.env == "prod" && size(inputs.hosts) > 3',
  '"run-" + run.id',
  "data.items.filter(x, x.ok).map(x, x.name)",
  'has(inputs.region) ? inputs.region : "us-east-1"',
  'string(item.index) + "/" + job.name',
];
const VARIABLES = {
  inputs: { env: "prod", hosts: ["a", "b", "c", "d"] },
  run: { id: "0190c1e2-run" },
  data: { items: Array.from({ length: 20 }, (_, i) => ({ ok: i % 2 === 0, name: `n${i}` })) },
  item: { index: 3 },
  job: { name: "deploy" },
};
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 2);

/** Evaluations per second of `evaluate(batch)` over about SECONDS. */
async function rate(evaluate: (batch: string[]) => Promise<unknown>, copies: number) {
  const batch = Array.from({ length: copies }, () => EXPRESSIONS).flat();
  await evaluate(batch); // warm-up: compiles and caches
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    await evaluate(batch);
    n += batch.length;
  }
  return n / ((performance.now() - start) / 1000);
}

/** The sandbox program and bundle, run in V8 instead of QuickJS. */
async function inV8(library: CelLibraryName) {
  (0, eval)(await libraryBundle(library));
  const g: Record<string, unknown> = {};
  g.__celLibrary = (globalThis as Record<string, unknown>).__celLibrary;
  delete (globalThis as Record<string, unknown>).__celLibrary;
  installInV8(g, library);
  const api = g.__swamp as { evaluate(request: string): string };
  return (batch: string[]) =>
    Promise.resolve(
      JSON.parse(api.evaluate(JSON.stringify({ exprs: batch, vars: VARIABLES, mode: "json" }))),
    );
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);

export async function main(): Promise<void> {
  console.log("CEL: evaluations/s of the five templating expressions (batched)");
  for (const library of ["bufbuild", "marcbachmann"] as const) {
    const t0 = performance.now();
    const cel = new CelEvaluator({ library });
    await cel.start();
    const startMs = performance.now() - t0;
    const evalSandbox = (batch: string[]) => cel.evaluate(batch, VARIABLES);
    const sandbox5 = await rate(evalSandbox, 1);
    const sandbox100 = await rate(evalSandbox, 20);
    const v8 = await rate(await inV8(library), 20);
    await cel.close();
    console.log(
      `  ${library.padEnd(13)} sandbox start ${startMs.toFixed(0)} ms; sandbox batch of 5:` +
        `${fmt(sandbox5)}/s; batch of 100:${fmt(sandbox100)}/s; V8 (same code):${fmt(v8)}/s; ` +
        `V8/sandbox ${(v8 / sandbox100).toFixed(1)}x; target 100,000/s: ` +
        (sandbox100 >= 100_000 ? "PASS" : "FAIL"),
    );
  }

  const deadlineMs = 100;
  const cel = new CelEvaluator({ deadlineMs });
  await cel.start();
  const ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
  const runaway = `${ten}.map(a, ${ten}.map(b, ${ten}.map(c, ${ten}.map(d, ${ten}.map(e, ` +
    `${ten}.map(f, a + b + c + d + e + f))))))`;
  let hungry = "size(v26)";
  for (let i = 25; i >= 0; i--) hungry = `[(v${i} + v${i}).trim()].map(v${i + 1}, ${hungry})`;
  hungry = `["0123456789abcdef"].map(v0, ${hungry})`;
  const rss = Deno.memoryUsage().rss;
  const t = performance.now();
  const [stopped] = await cel.evaluate([runaway], {});
  const stoppedMs = performance.now() - t;
  const [starved] = await cel.evaluate([hungry], {});
  const grown = (Deno.memoryUsage().rss - rss) / 1048576;
  await cel.close();
  console.log(
    `  runaway expression: ${stopped.ok ? "NOT stopped" : "stopped"} after ${
      stoppedMs.toFixed(0)
    } ms (deadline ${deadlineMs} ms, target within 2x: ${
      !stopped.ok && stoppedMs <= 2 * deadlineMs ? "PASS" : "FAIL"
    }); memory-hungry expression: ${starved.ok ? "NOT stopped" : "stopped"}, RSS grew ${
      grown.toFixed(1)
    } MiB (target <= 64 MiB: ${grown <= 64 ? "PASS" : "FAIL"})`,
  );
}

if (import.meta.main) await main();
