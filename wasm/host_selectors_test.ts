// Plain selections answered on the host (wasm/host_selectors.ts) give what the
// library gives, and a large value passes through a template without entering
// the sandbox.
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import { selectOnHost, variablesNamedIn } from "./host_selectors.ts";

const vars = {
  inputs: {
    env: "prod",
    count: 3,
    ratio: 0.5,
    on: true,
    none: null,
    list: [1, "a", [2.5, { k: "v" }]],
    nested: { a: { b: { c: "deep" } } },
    big: 9007199254740993,
    empty: {},
  },
  steps: { build: { outputs: { stdout: "ok\n" }, status: "succeeded" } },
  n: 7,
};

Deno.test("selections: a path that exists and plain JSON is answered; anything else is not", () => {
  assertEquals(selectOnHost("inputs.env", vars), { value: "prod" });
  assertEquals(selectOnHost(" inputs . nested.a ", vars), { value: { b: { c: "deep" } } });
  assertEquals(selectOnHost("steps.build.outputs", vars), { value: { stdout: "ok\n" } });
  assertEquals(selectOnHost("n", vars), { value: 7 });
  for (
    const source of [
      "inputs.missing", // the library's error, not ours
      "inputs.big", // an int past 2^53 is an error on the way out
      "inputs.list.x", // a field of a list
      "inputs.env + '!'", // not a plain selection
      "inputs['env']",
      "true",
      "unknown.x",
      "inputs.none.x",
    ]
  ) {
    assertEquals(selectOnHost(source, vars), undefined, source);
  }
  assertEquals(selectOnHost("a.b", { a: { b: 1 }, "a.b": 2 }), undefined, "a dotted variable");
  assertEquals(selectOnHost("a", { a: { d: new Date(0) } }), undefined, "not plain JSON");
  assertEquals(selectOnHost("a", { a: [undefined] }), undefined, "not plain JSON");
});

Deno.test("variables an expression names: only those are sent", () => {
  const named = variablesNamedIn(["size(inputs.list) + n", "'steps'"], { ...vars, other: 1 });
  assertEquals(Object.keys(named).sort(), ["inputs", "n", "steps"]);
  assertEquals(Object.keys(variablesNamedIn(["ninputs + 1"], vars)), []);
});

Deno.test("host selections agree with the library, values and errors", async () => {
  const sources = [
    "inputs.env",
    "inputs.count",
    "inputs.ratio",
    "inputs.on",
    "inputs.none",
    "inputs.list",
    "inputs.nested",
    "inputs.nested.a.b.c",
    "inputs.empty",
    "inputs.big",
    "inputs.missing",
    "steps.build",
    "n",
    "inputs",
  ];
  const host = new CelEvaluator();
  const library = new CelEvaluator({ hostSelectors: false, fastPath: false });
  try {
    const a = await host.evaluate(sources, vars);
    const b = await library.evaluate(sources, vars);
    sources.forEach((s, i) => assertEquals(a[i], b[i], s));
    assert(!a[10].ok, "inputs.missing is the library's error");
  } finally {
    await host.close();
    await library.close();
  }
});

Deno.test("a 1,000,000-item list passes through a template; only expressions that compute on it fail", async () => {
  const cel = new CelEvaluator();
  try {
    const items = Array.from({ length: 1_000_000 }, (_, i) => i);
    const [passed, name, size] = await cel.evaluate(
      ["inputs.items", "inputs.name", "size(inputs.items)"],
      { inputs: { items, name: "n" } },
    );
    assertEquals(passed, { ok: true, value: items });
    assertEquals(name, { ok: true, value: "n" });
    assert(!size.ok && size.limitExceeded, JSON.stringify(size));
  } finally {
    await cel.close();
  }
});
