// CEL evaluation speed in the WebAssembly sandbox, with the library alone and
// with the compiled fast path (docs/design/0007), versus the same library and
// the same sandbox program in V8, in one run; and the limits at work. Numbers
// are informational; nothing fails on time.
import { CelEvaluator, type CelEvaluatorOptions } from "../wasm/evaluator.ts";
import { libraryBundle } from "../wasm/library_bundle.ts";
import { type CelLibraryName, installInV8 } from "../wasm/sandbox_program.ts";
import { decodeResults, WireSession } from "../wasm/wire_session.ts";
import {
  doubledList,
  TEMPLATING_EXPRESSIONS as EXPRESSIONS,
  TEMPLATING_VARS as VARIABLES,
} from "../wasm/fast_path_cases.ts";
import { hostPauseShare, median } from "./lib.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 2);

/**
 * Evaluations per second of `evaluate(batch)` over about SECONDS of wall
 * time (`mean`), and at the median batch's pace (`median`). The median is
 * not moved by the host pausing this VM for tens of milliseconds now and
 * then (`hostPauseShare` in lib.ts measures how much of a busy loop's time that takes).
 */
async function rates(evaluate: (batch: string[]) => Promise<unknown>, copies: number) {
  const batch = Array.from({ length: copies }, () => EXPRESSIONS).flat();
  await evaluate(batch); // warm-up: compiles and caches
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const t = performance.now();
    await evaluate(batch);
    times.push(performance.now() - t);
  }
  const n = times.length * batch.length;
  return {
    mean: n / ((performance.now() - start) / 1000),
    median: batch.length / (median(times) / 1000),
  };
}

async function rate(evaluate: (batch: string[]) => Promise<unknown>, copies: number) {
  return (await rates(evaluate, copies)).mean;
}

/** The sandbox program and bundle, run in V8 instead of QuickJS, with the same wire protocol. */
async function inV8(library: CelLibraryName, fastPath = true) {
  (0, eval)(await libraryBundle(library));
  const g: Record<string, unknown> = {};
  g.__celLibrary = (globalThis as Record<string, unknown>).__celLibrary;
  delete (globalThis as Record<string, unknown>).__celLibrary;
  installInV8(g, library, { fastPath });
  const api = g.__swamp as { evaluate(request: string, batch: number, ...texts: string[]): string };
  const session = new WireSession();
  let crossings = 0;
  return (batch: string[]) => {
    const { request, texts } = session.request(batch, VARIABLES, "json", 0);
    return Promise.resolve(decodeResults(api.evaluate(request, ++crossings, ...texts)));
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);

/** Sandbox start, and rates for batches of 5 and 100, in one sandbox. */
async function sandboxRates(options: CelEvaluatorOptions) {
  const t0 = performance.now();
  const cel = new CelEvaluator(options);
  await cel.start();
  const startMs = performance.now() - t0;
  const evalSandbox = (batch: string[]) => cel.evaluate(batch, VARIABLES);
  const batch5 = await rate(evalSandbox, 1);
  const { mean: batch100, median: batch100Median } = await rates(evalSandbox, 20);
  const { fastPath, fallbacks } = await cel.inspect();
  await cel.close();
  return { startMs, batch5, batch100, batch100Median, fastPath, fallbacks };
}

export async function main(): Promise<void> {
  console.log("CEL: evaluations/s of the five templating expressions (batched)");
  const off = await sandboxRates({ library: "bufbuild", fastPath: false });
  const on = await sandboxRates({ library: "bufbuild" });
  const v8Off = await rate(await inV8("bufbuild", false), 20);
  const v8On = await rate(await inV8("bufbuild"), 20);
  console.log(
    `  bufbuild      sandbox start ${on.startMs.toFixed(0)} ms\n` +
      `    library only (fastPath: false): batch of 5:${fmt(off.batch5)}/s; ` +
      `batch of 100:${fmt(off.batch100)}/s\n` +
      `    compiled fast path:             batch of 5:${fmt(on.batch5)}/s; ` +
      `batch of 100:${fmt(on.batch100)}/s (${on.fastPath} compiled, ${on.fallbacks} fell back)\n` +
      `    V8, same code, batch of 100: library only${fmt(v8Off)}/s; compiled${fmt(v8On)}/s\n` +
      `    batch of 100 at the median batch's pace:${fmt(on.batch100Median)}/s\n` +
      `    target 100,000/s in the sandbox, batch of 100: mean ` +
      (on.batch100 >= 100_000 ? "PASS" : "FAIL") + `, median batch ` +
      (on.batch100Median >= 100_000 ? "PASS" : "FAIL"),
  );
  console.log(
    `  host: a fixed-work JS loop spent ${
      (hostPauseShare(SECONDS) * 100).toFixed(0)
    } % of its wall time ` +
      `in chunks over 3x its median (the VM paused); mean rates lose about as much`,
  );
  const marc = await sandboxRates({ library: "marcbachmann" });
  const v8Marc = await rate(await inV8("marcbachmann"), 20);
  console.log(
    `  marcbachmann  sandbox start ${marc.startMs.toFixed(0)} ms; batch of 5:${
      fmt(marc.batch5)
    }/s; ` +
      `batch of 100:${fmt(marc.batch100)}/s; V8 (same code):${fmt(v8Marc)}/s`,
  );

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
  await doubledLists(deadlineMs);
}

/**
 * A list doubled in nested map(), on both paths with the 100 ms deadline: the
 * fast path must not be worse than the library it hands the concatenation to.
 */
async function doubledLists(deadlineMs: number): Promise<void> {
  const paths = [true, false].map((fastPath) => new CelEvaluator({ deadlineMs, fastPath }));
  try {
    for (const cel of paths) await cel.start();
    for (const levels of [17, 20]) {
      const cells: string[] = [];
      const medians: number[] = [];
      for (const cel of paths) {
        const times: number[] = [];
        let outcome = "";
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          const [r] = await cel.evaluate([doubledList(levels)], {});
          times.push(performance.now() - t);
          outcome = r.ok ? "answered" : r.limitExceeded ? "limit" : "error";
        }
        medians.push(median(times));
        cells.push(`${median(times).toFixed(0)} ms (${outcome})`);
      }
      console.log(
        `  list doubled ${levels} times in nested map(), median of 5: fast path ${cells[0]}, ` +
          `library only ${cells[1]}; ratio ${(medians[0] / medians[1]).toFixed(2)}`,
      );
    }
  } finally {
    for (const cel of paths) await cel.close();
  }
}

if (import.meta.main) await main();
