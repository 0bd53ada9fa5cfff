// The evaluate protocol sends only what a sandbox does not hold: expressions
// it has seen go as ids, unchanged variables are kept. The requests it builds,
// and that a real sandbox never answers from stale expressions or variables.
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import { decodeResults, WireSession } from "./wire_session.ts";

/** A request as the sandbox reads it, with each sent variable's JSON text beside its name. */
function parsed(wire: { request: string; texts: string[] }) {
  const r = JSON.parse(wire.request);
  return {
    ...r,
    vars: Object.fromEntries(r.vars.map((n: string, i: number) => [n, wire.texts[i]])),
  };
}

Deno.test("requests: ids for sources already sent, kept variables, a fresh start after a loss", () => {
  const session = new WireSession();
  const first = parsed(session.request(["a", "b + 1", "a"], { a: 1, b: 2 }, "json", 0));
  assertEquals(first, {
    reset: true,
    mode: "json",
    from: 0,
    exprs: ["a", "b + 1", 0],
    keep: [],
    vars: { a: "1", b: "2" },
    refused: {},
  });
  const second = parsed(session.request(["b + 1", "c"], { a: 1, b: 3 }, "json", 1));
  assertEquals(second, {
    reset: false,
    mode: "json",
    from: 1,
    exprs: [1, "c"],
    keep: ["a"],
    vars: { b: "3" },
    refused: {},
  });
  // Another wire mode: the same JSON means other values, so nothing is kept.
  const typed = parsed(session.request(["c"], { a: 1 }, "typed", 0));
  assertEquals([typed.exprs, typed.keep, typed.vars], [[2], [], { a: "1" }]);
  session.lost();
  const again = parsed(session.request(["c"], { a: 1 }, "typed", 0));
  assertEquals([again.reset, again.exprs, again.keep], [true, ["c"], []]);
});

Deno.test("requests: variables JSON drops (undefined) are not sent", () => {
  const session = new WireSession();
  const r = parsed(session.request(["1"], { a: undefined, b: null }, "json", 0));
  assertEquals(r.vars, { b: "null" });
});

Deno.test("requests: a variable too large, or refused before, is not sent but named with its error", () => {
  const session = new WireSession(10);
  const r = parsed(
    session.request(
      ["1"],
      { small: "ok", big: "x".repeat(20), slow: 1 },
      "json",
      0,
      new Map([["slow", "too slow"]]),
    ),
  );
  assertEquals(r.vars, { small: '"ok"' });
  assertEquals(r.refused, {
    big: "expression_limit_exceeded: variable big is 22 bytes of JSON, more than the 10 bytes " +
      "an expression may read",
    slow: "too slow",
  });
});

Deno.test("results: values in order, errors in their places", () => {
  const json = JSON.stringify({
    values: [1, null, "x", null],
    errors: [[1, "bad"], [3, "big", 1]],
  });
  assertEquals(decodeResults(json), [
    { ok: true, value: 1 },
    { ok: false, error: "bad" },
    { ok: true, value: "x" },
    { ok: false, error: "big", limit: true },
  ]);
});

Deno.test("a sandbox answers each batch from that batch's expressions and variables", async () => {
  for (const fastPath of [true, false]) {
    const cel = new CelEvaluator({ fastPath });
    try {
      const values = async (exprs: string[], vars: Record<string, unknown>) =>
        (await cel.evaluate(exprs, vars)).map((r) => r.ok ? r.value : "ERROR");
      assertEquals(await values(["a", "b.x", "a + b.x"], { a: 1, b: { x: 10 } }), [1, 10, 11]);
      // a changed, b kept; the same sources again, as ids.
      assertEquals(await values(["a + b.x", "a", "b.x"], { a: 2, b: { x: 10 } }), [12, 2, 10]);
      // b no longer given: the sandbox must not answer from the b it held
      // (has() of a field of a missing variable is false in the library).
      assertEquals(await values(["a", "b.x", "has(b.x)"], { a: 2 }), [2, "ERROR", false]);
      assertEquals(await values(["b.x"], { b: { x: 20 } }), [20]);
      // The same JSON in typed mode is another value.
      const typed = await cel.evaluateWire(["b"], { b: { int64Value: "3" } }, "typed");
      assertEquals(typed, [{ ok: true, value: { int64Value: "3" } }]);
      assertEquals(await values(["b"], { b: { int64Value: "3" } }), [{ int64Value: "3" }]);
      // A syntax error stays one, by id too.
      assertEquals(await values(["1 +", "1 +", "b.int64Value"], { b: { int64Value: "4" } }), [
        "ERROR",
        "ERROR",
        "4",
      ]);
    } finally {
      await cel.close();
    }
  }
});

Deno.test("after an interrupted crossing the next one starts afresh and sees the right variables", async () => {
  const ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
  const runaway = `${ten}.map(a, ${ten}.map(b, ${ten}.map(c, ${ten}.map(d, ${ten}.map(e, ` +
    `${ten}.map(f, ${ten}.map(g, a + b + c + d + e + f + g)))))))`;
  const cel = new CelEvaluator({ deadlineMs: 50 });
  try {
    const vars = { v: { n: 1 } };
    const results = await cel.evaluate(["v.n", runaway, "v.n + 1", "runaway"], vars);
    assertEquals(results[0], { ok: true, value: 1 });
    assert(!results[1].ok && results[1].limitExceeded);
    assertEquals(results[2], { ok: true, value: 2 });
    assert(!results[3].ok);
    assertEquals(await cel.evaluate(["v.n * 10"], { v: { n: 3 } }), [{ ok: true, value: 30 }]);
  } finally {
    await cel.close();
  }
});
