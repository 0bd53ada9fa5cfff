import { assertEquals } from "../../test/helpers/assert.ts";
import { dataCallKey, dataCalls } from "./data_calls.ts";

Deno.test("finds data.* calls with their arguments' texts", () => {
  assertEquals(dataCalls('data.latest("web", inputs.name).attributes.ip'), [
    { fn: "latest", args: ['"web"', "inputs.name"] },
  ]);
  assertEquals(
    dataCalls("size(data.findBySpec('m', 's')) + data.version('m', f(a, [1, 2]), 3).version"),
    [
      { fn: "findBySpec", args: ["'m'", "'s'"] },
      { fn: "version", args: ["'m'", "f(a, [1, 2])", "3"] },
    ],
  );
  assertEquals(dataCalls('data . listVersions ( "a,b" , "c)" )'), [
    { fn: "listVersions", args: ['"a,b"', '"c)"'] },
  ]);
});

Deno.test("ignores calls in strings, other namespaces and unknown functions", () => {
  assertEquals(dataCalls("\"data.latest(1, 2)\" + r'data.latest(x)'"), []);
  assertEquals(dataCalls("mydata.latest('a', 'b') + x.data.latest('a', 'b')"), []);
  assertEquals(dataCalls("data.other('a') + data.latest"), []);
  assertEquals(dataCalls('"""data.latest("a", "b")"""'), []);
});

Deno.test("keys join the function and the argument values with NUL, as the sandbox does", () => {
  assertEquals(dataCallKey("version", ["m", "n", 3]), "version\u0000m\u0000n\u00003");
});
