// Nothing of the host is reachable from inside the sandbox beyond the values
// passed in: not from CEL, and not even from JS in the sandbox's global object.
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";

Deno.test("CEL cannot name host objects or functions", async () => {
  const cel = new CelEvaluator();
  try {
    const results = await cel.evaluate([
      "Deno",
      "Deno.env",
      "globalThis",
      "fetch('https://example.com')",
      "require('fs')",
      "import('fs')",
      "process.env",
      "__swamp",
      "__swampZoneParts('UTC', 0)",
      "this",
      "constructor",
      "x.constructor",
      "x['constructor']",
      "x.__proto__",
    ], { x: {} });
    for (const [i, r] of results.entries()) {
      assert(!r.ok, `expression ${i} evaluated: ${JSON.stringify(r)}`);
    }
  } finally {
    await cel.close();
  }
});

Deno.test("the sandbox's global object holds only the language, the library's leftovers and our API", async () => {
  const cel = new CelEvaluator();
  try {
    const { globals } = await cel.inspect();
    for (const name of ["Deno", "fetch", "require", "process", "window", "self", "navigator"]) {
      assert(!globals.includes(name), `${name} is visible in the sandbox`);
    }
    // The polyfill captured the host's zone function and removed the global.
    assert(!globals.includes("__swampZoneParts"));
    assert(!globals.includes("__celLibrary"));
    assert(globals.includes("__swamp"));
  } finally {
    await cel.close();
  }
});

Deno.test("variables are copies: the sandbox sees values, not host objects", async () => {
  const cel = new CelEvaluator();
  try {
    const host = { list: [1, 2], toString: "not a function" };
    const [r] = await cel.evaluate(["v.list + [3]"], { v: host });
    assertEquals(r, { ok: true, value: [1, 2, 3] });
    assertEquals(host.list, [1, 2]);
  } finally {
    await cel.close();
  }
});
