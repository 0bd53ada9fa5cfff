// Bindings larger than the examples (issue 18): a batch's results are that
// batch's, a binding that cannot be loaded fails only the expressions that
// use it, with an error naming it and its size, and evaluate() returns in a
// bounded number of crossings whatever the bindings. Both paths (compiled
// fast path and library). No timing assertions.
import { assert, assertEquals, assertMatch } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import { MAX_DEPTH } from "./wire_session.ts";

for (const fastPath of [true, false]) {
  const path = fastPath ? "fast path" : "library";

  Deno.test(`[${path}] a batch interrupted while its bindings load never returns the previous batch's results`, async () => {
    const cel = new CelEvaluator({ fastPath });
    try {
      assertEquals(await cel.evaluate(["1 + 1", "v.s + '!'"], { v: { s: "A" } }), [
        { ok: true, value: 2 },
        { ok: true, value: "A!" },
      ]);
      for (const mib of [24, 40]) {
        const big = "x".repeat(mib << 20);
        const results = await cel.evaluate(["size(big)", "2 + 2"], { big });
        assertEquals(results.length, 2);
        assert(!results[0].ok || results[0].value === big.length, JSON.stringify(results[0]));
        assertEquals(results[1], { ok: true, value: 4 }, `${mib} MiB: 2 + 2 is its own`);
        if (!results[0].ok) {
          assertMatch(results[0].error, /^expression_limit_exceeded: .*\bbig\b.*MiB/);
        }
      }
      assertEquals(await cel.evaluate(["3 * 3"], {}), [{ ok: true, value: 9 }]);
    } finally {
      await cel.close();
    }
  });

  Deno.test(`[${path}] a list of 1,000,000 integers: a clear answer or a clear error, and the evaluator goes on`, async () => {
    const cel = new CelEvaluator({ fastPath });
    try {
      const items = Array.from({ length: 1_000_000 }, (_, i) => i);
      const results = await cel.evaluate(
        ["size(inputs.items)", "2 + 2", "inputs.name + '!'"],
        { inputs: { items, name: "n" } },
      );
      assertEquals(results.length, 3);
      const [size, four, name] = results;
      assert(
        size.ok
          ? size.value === 1_000_000
          : /^expression_limit_exceeded: .*inputs/.test(size.error),
        JSON.stringify(size),
      );
      // The unrelated expression is answered whatever happened to the big variable.
      assertEquals(four, { ok: true, value: 4 });
      assert(name.ok ? name.value === "n!" : /inputs/.test(name.error), JSON.stringify(name));
      assertEquals(await cel.evaluate(["x + 1"], { x: 1 }), [{ ok: true, value: 2 }]);
    } finally {
      await cel.close();
    }
  });

  Deno.test(`[${path}] a variable nested 10,000 deep is refused as too deep, naming it; the rest of its batch runs`, async () => {
    const cel = new CelEvaluator({ fastPath });
    try {
      let deep: unknown = 1;
      for (let i = 0; i < 10_000; i++) deep = { a: deep };
      const results = await cel.evaluate(["has(deep.a)", "2 + 2"], { deep });
      assertEquals(results[1], { ok: true, value: 4 });
      assert(!results[0].ok, JSON.stringify(results[0]));
      if (!results[0].ok) {
        assertMatch(
          results[0].error,
          /^expression_limit_exceeded: variable deep is nested too deeply/,
        );
      }
      assertEquals(cel.replacements, 0, "refused before it reached the sandbox");
      // At the limit it is read, and returned, whole.
      let limit: unknown = 1;
      for (let i = 0; i < MAX_DEPTH; i++) limit = [limit];
      assertEquals(await cel.evaluate(["size(v)", "v"], { v: limit }), [
        { ok: true, value: 1 },
        { ok: true, value: limit },
      ]);
    } finally {
      await cel.close();
    }
  });
}
