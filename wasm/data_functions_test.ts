// swamp's data.* functions in the sandbox: each call reads the snapshot the
// host bound as `data`; a call the snapshot lacks is a clear error.
import { assertEquals, assertMatch } from "../test/helpers/assert.ts";
import { createCelEvaluator, type ExpressionResult } from "./mod.ts";

const evaluator = await createCelEvaluator();

function values(results: ExpressionResult[]): unknown[] {
  return results.map((r) => r.ok ? r.value : `ERROR ${r.error}`);
}

const record = (name: string, version: number, attributes: unknown) => ({
  id: `id-${name}-${version}`,
  name,
  version,
  createdAt: "2026-12-01T00:00:00.000Z",
  attributes,
  tags: { env: "prod" },
});

const snapshot = {
  "latest\u0000web\u0000server": record("server", 2, { size: 4, ip: "10.0.0.1" }),
  "latest\u0000web\u0000gone": null,
  "version\u0000web\u0000server\u00001": record("server", 1, { size: 2 }),
  "listVersions\u0000web\u0000server": [1, 2],
  "findBySpec\u0000web\u0000instance": [record("server", 2, { size: 4 })],
  "findByTag\u0000env\u0000prod": [record("server", 2, { size: 4 })],
};

Deno.test("data.* calls read the snapshot bound as `data`", async () => {
  const results = await evaluator.evaluate([
    'data.latest("web", "server").attributes.size > 3',
    'data.latest("web", "server").attributes.ip',
    'data.latest("web", "gone") == null',
    'data.version("web", "server", 1).attributes.size',
    'data.listVersions("web", "server")',
    'data.findBySpec("web", "instance").map(r, r.name)',
    'size(data.findByTag("env", "prod"))',
    'data.latest(inputs.model, "server").version',
  ], { data: snapshot, inputs: { model: "web" } });
  assertEquals(values(results), [true, "10.0.0.1", true, 2, [1, 2], ["server"], 1, 2]);
});

Deno.test("a call the snapshot lacks fails with what to do", async () => {
  const [result] = await evaluator.evaluate(['data.latest("web", "other")'], { data: snapshot });
  assertEquals(result.ok, false);
  if (!result.ok) assertMatch(result.error, /data\.latest\("web", "other"\) was not read/);
});

Deno.test("check accepts data.* calls when `data` is a known name", async () => {
  const checks = await evaluator.check(
    ['data.latest("a", "b").attributes.x', 'data.findBySpec("a", "s")'],
    ["data", "inputs"],
  );
  assertEquals(checks, [{ ok: true }, { ok: true }]);
  await evaluator.close();
});
