// Evaluation through the sandbox: values, variables, errors, check(), batches.
import { assert, assertEquals, assertMatch } from "../test/helpers/assert.ts";
import { createCelEvaluator, type ExpressionResult } from "./mod.ts";
import { CelEvaluator } from "./evaluator.ts";

const evaluator = await createCelEvaluator();
const close = () => evaluator.close();

function values(results: ExpressionResult[]): unknown[] {
  return results.map((r) => r.ok ? r.value : `ERROR ${r.error}`);
}

Deno.test("ints, strings, lists, maps, ternaries and string functions", async () => {
  const results = await evaluator.evaluate([
    "1 + 2 * 3",
    "7 / 2",
    "2.5 * 2.0",
    "'ab' + 'cd'",
    "[1, 2, 3].map(x, x * 2)",
    "{'a': 1, 'b': [true, null]}",
    "1 < 2 ? 'yes' : 'no'",
    "'Hello'.startsWith('He') && 'Hello'.endsWith('lo') && 'Hello'.contains('ell')",
    "size('héllo')",
    "'a,b'.split(',')",
    "'swamp'.upperAscii()",
    "[1, 2, 3].exists(x, x > 2) && [1, 2].all(x, x > 0)",
    "string(42) + '/' + string(1.5)",
    "int('12') + 1",
    "3u + 4u",
    "b'hi'",
    "timestamp('2024-01-02T03:04:05Z') + duration('1h')",
    "duration('90m')",
    "type(1) == int",
    "'abc'.matches('^a.c$')",
  ], {});
  assertEquals(values(results), [
    7,
    3,
    5,
    "abcd",
    [2, 4, 6],
    { a: 1, b: [true, null] },
    "yes",
    true,
    5,
    ["a", "b"],
    "SWAMP",
    true,
    "42/1.5",
    13,
    7,
    "aGk=",
    "2024-01-02T04:04:05Z",
    "5400s",
    true,
    true,
  ]);
});

Deno.test("variables: JSON in, integral numbers become CEL ints, has() on maps", async () => {
  const variables = {
    inputs: { env: "prod", hosts: ["a", "b", "c", "d"], count: 3, ratio: 0.5 },
    run: { id: "r-1" },
    data: { items: [{ ok: true, name: "x" }, { ok: false, name: "y" }, { ok: true, name: "z" }] },
    item: { index: 2 },
    job: { name: "build" },
  };
  const results = await evaluator.evaluate([
    'inputs.env == "prod" && size(inputs.hosts) > 3',
    '"run-" + run.id',
    "data.items.filter(x, x.ok).map(x, x.name)",
    'has(inputs.region) ? inputs.region : "us-east-1"',
    'string(item.index) + "/" + job.name',
    "inputs.count + 1",
    "inputs.ratio * 2.0",
    "has(inputs.env)",
    "inputs",
  ], variables);
  assertEquals(values(results), [
    true,
    "run-r-1",
    ["x", "z"],
    "us-east-1",
    "2/build",
    4,
    1,
    true,
    variables.inputs,
  ]);
});

Deno.test("errors are per expression, with clear messages", async () => {
  const results = await evaluator.evaluate([
    "1 +",
    "missing.field",
    "1 / 0",
    "'a' + 1",
    "{'a': 1}['b']",
    "9223372036854775807",
    "1.0 / 0.0",
    "2 + 2",
  ], {});
  const errors = results.map((r) => r.ok ? "" : r.error);
  assertMatch(errors[0], /found \+|syntax|expecting/i);
  assertMatch(errors[1], /unresolved|missing|undeclared/i);
  assertMatch(errors[2], /divi.*zero/i);
  assertMatch(errors[3], /no matching overload/i);
  assertMatch(errors[4], /no such key|b/i);
  assertMatch(errors[5], /outside the safe integer range/);
  assertMatch(errors[6], /cannot be represented in JSON/);
  assertEquals(results[7], { ok: true, value: 4 });
  for (const r of results.slice(0, 7)) assert(!r.ok && !r.limitExceeded);
});

Deno.test("check reports syntax errors and unknown top-level variables", async () => {
  const checks = await evaluator.check([
    "inputs.env == 'prod'",
    "inputs.x + secret",
    "[1, 2].map(v, v + offset)",
    "[1, 2].map(v, v + 1)",
    "1 +",
    "has(run.id) ? run.id : ''",
  ], ["inputs", "run"]);
  assertEquals(checks[0], { ok: true });
  assertEquals(checks[1], { ok: false, error: "unknown variable: secret" });
  assertEquals(checks[2], { ok: false, error: "unknown variable: offset" });
  assertEquals(checks[3], { ok: true });
  assert(!checks[4].ok);
  assertEquals(checks[5], { ok: true });
});

Deno.test("the math, encoders and bindings extensions evaluate, and check() knows their names", async () => {
  const exprs = [
    "math.greatest(1, 5, 3)",
    "math.least([2.5, -1.0])",
    "base64.encode(b'hi')",
    "cel.bind(x, inputs.n * 2, x + x)",
    "'a,b'.split(',')",
  ];
  assertEquals(await evaluator.check(exprs, ["inputs"]), exprs.map(() => ({ ok: true })));
  assertEquals(
    (await evaluator.evaluate(exprs, { inputs: { n: 3 } })).map((r) => r.ok && r.value),
    [5, -1, "aGk=", 12, ["a", "b"]],
  );
  assertEquals(await evaluator.check(["cel.bind(x, 1, x + y)"], []), [
    { ok: false, error: "unknown variable: y" },
  ]);
});

Deno.test("check lists the env fields an expression names literally, not shadowed ones", async () => {
  const checks = await evaluator.check([
    'env.REGION + env["ZONE"] + (has(env.HOME) ? "h" : "")',
    "[{'X': 1}].map(env, env.X)",
    "env[inputs.name]",
    "inputs.env.REGION",
  ], ["inputs", "env"]);
  assertEquals(checks[0], { ok: true, envReads: ["REGION", "ZONE", "HOME"] });
  assertEquals(checks[1], { ok: true }, "a comprehension variable named env is not the host's");
  assertEquals(checks[2], { ok: true }, "a computed key cannot be checked ahead");
  assertEquals(checks[3], { ok: true });
});

Deno.test("a batch is one call; compiled expressions are cached by source", async () => {
  const cel = new CelEvaluator();
  try {
    const batch = Array.from({ length: 50 }, (_, i) => `x + ${i % 10}`);
    const results = await cel.evaluate(batch, { x: 1 });
    assertEquals(results.map((r) => r.ok && r.value), batch.map((_, i) => 1 + (i % 10)));
    assertEquals((await cel.inspect()).cached, 10);
    await cel.evaluate(batch, { x: 2 });
    assertEquals((await cel.inspect()).cached, 10);
    assertEquals(await cel.evaluate([], {}), []);
  } finally {
    await cel.close();
  }
});

Deno.test("concurrent callers are served in turn", async () => {
  const all = await Promise.all(
    Array.from({ length: 8 }, (_, i) => evaluator.evaluate(["n * 2"], { n: i })),
  );
  assertEquals(all.map((r) => r[0].ok && r[0].value), [0, 2, 4, 6, 8, 10, 12, 14]);
});

Deno.test("named time zones come from the host's pure zone function", async () => {
  const results = await evaluator.evaluate([
    "timestamp('2009-02-13T23:31:30Z').getHours('Asia/Kathmandu')",
    "timestamp('2009-02-13T23:31:30Z').getHours('+01:00')",
    "timestamp('2009-02-13T23:31:30Z').getHours('Not/AZone')",
  ], {});
  assertEquals(results[0], { ok: true, value: 5 });
  assertEquals(results[1], { ok: true, value: 0 });
  assert(!results[2].ok);
});

Deno.test({ name: "close the shared evaluator", fn: close });
