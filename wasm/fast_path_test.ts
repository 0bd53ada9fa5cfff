// The compiled fast path (docs/design/0007) against the library alone, in the
// real sandbox: every expression of fast_path_cases.ts, in both wire modes,
// must give exactly the same result (value, or error and its message) with the
// fast path on and off; and the compiled code must really have answered.
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import type { WireMode, WireResult } from "./sandbox_program.ts";
import {
  DOTTED_EXPRESSIONS,
  DOTTED_VARS,
  doubledList,
  EXPRESSIONS,
  JSON_VARS,
  TEMPLATING_EXPRESSIONS as BENCH,
  TEMPLATING_VARS as BENCH_VARS,
  TYPED_VARS,
} from "./fast_path_cases.ts";

async function both(
  exprs: string[],
  vars: Record<string, unknown>,
  mode: WireMode,
  work: (fast: WireResult[], library: WireResult[], taken: number) => void,
): Promise<void> {
  const fast = new CelEvaluator({ deadlineMs: 5_000 });
  const library = new CelEvaluator({ deadlineMs: 5_000, fastPath: false });
  try {
    const a = await fast.evaluateWire(exprs, vars, mode);
    const b = await library.evaluateWire(exprs, vars, mode);
    work(a, b, (await fast.inspect()).fastPath);
    assertEquals((await library.inspect()).fastPath, 0, "fastPath: false still compiled");
  } finally {
    await fast.close();
    await library.close();
  }
}

function sameResults(exprs: string[], fast: WireResult[], library: WireResult[]): void {
  const differ = exprs.flatMap((e, i) =>
    JSON.stringify(fast[i]) === JSON.stringify(library[i])
      ? []
      : [`${e}: fast ${JSON.stringify(fast[i])}, library ${JSON.stringify(library[i])}`]
  );
  assertEquals(differ, [], "the fast path and the library disagree");
}

for (const [mode, vars] of [["json", JSON_VARS], ["typed", TYPED_VARS]] as const) {
  Deno.test(`fast path and library agree on every case (${mode} variables)`, async () => {
    await both(EXPRESSIONS, vars, mode, (fast, library, taken) => {
      sameResults(EXPRESSIONS, fast, library);
      const values = library.filter((r) => r.ok).length;
      console.log(
        `  ${EXPRESSIONS.length} expressions: ${values} values, ` +
          `${EXPRESSIONS.length - values} errors; the fast path answered ${taken}`,
      );
      // Most values must come from the compiled code itself (141 and 98 of
      // them when this was written; the rest are left to the library on purpose).
      assert(taken >= (mode === "json" ? 120 : 80), `the fast path answered only ${taken}`);
    });
  });
}

Deno.test("a variable with a dot in its name leaves the batch to the library", async () => {
  await both(DOTTED_EXPRESSIONS, DOTTED_VARS, "json", (fast, library, taken) => {
    sameResults(DOTTED_EXPRESSIONS, fast, library);
    assertEquals(fast[0], { ok: true, value: 1 }); // the variable "a.b", not a's field b
    assertEquals(taken, 0);
  });
});

Deno.test("the five bench expressions take the fast path", async () => {
  await both(BENCH, BENCH_VARS, "json", (fast, library, taken) => {
    sameResults(BENCH, fast, library);
    assertEquals(fast.map((r) => r.value), [
      true,
      "run-0190c1e2-run",
      ["n0", "n2", "n4", "n6", "n8", "n10", "n12", "n14", "n16", "n18"],
      "us-east-1",
      "3/deploy",
    ]);
    assertEquals(taken, BENCH.length);
  });
});

Deno.test("a list doubled 17 times in nested map() is the library's to concatenate", async () => {
  // The compiled code would copy 2^17 elements where the library builds a
  // lazy view; it hands the expression back instead (its cost: bench/cel.ts).
  const exprs = [doubledList(17), "[1, 2] + [3]"];
  await both(exprs, {}, "json", (fast, library, taken) => {
    sameResults(exprs, fast, library);
    let answer: unknown = 2 ** 17;
    for (let i = 0; i <= 17; i++) answer = [answer];
    assertEquals(fast.map((r) => r.value), [answer, [1, 2, 3]]);
    assertEquals(taken, 1, "only the small concatenation is compiled");
  });
});
