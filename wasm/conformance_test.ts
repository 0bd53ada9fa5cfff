// The cel-spec conformance cases that need no protobuf message types, run
// against the sandbox (typed wire mode, so int, uint and double stay apart).
// Every failure must be in conformance_skips.json with a reason, every skip
// entry must still fail, and at least 99 % of the applicable cases must pass
// (skipped cases count as not passing).
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import { type ConformanceCase, conformanceCases, sameValue } from "./conformance_cases.ts";

const skips: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("./conformance_skips.json", import.meta.url)),
);

Deno.test("cel-spec conformance (core, no protobuf messages)", async () => {
  const cases = conformanceCases();
  // A generous deadline: this is about semantics, and the machine may be slow.
  const cel = new CelEvaluator({ deadlineMs: 5_000 });
  const failed = new Map<string, string>();
  let fastPath = 0;
  let fallbacks = 0;
  try {
    const judge = async (batch: ConformanceCase[], bindings: Record<string, unknown>) => {
      const results = await cel.evaluateWire(batch.map((c) => c.expr), bindings, "typed");
      batch.forEach((c, i) => {
        const r = results[i];
        const pass = c.value === undefined ? !r.ok : r.ok && sameValue(r.value, c.value);
        if (!pass) failed.set(c.id, `${c.expr} → ${JSON.stringify(r)}`);
      });
    };
    // Cases without bindings go in large batches: one crossing each.
    const plain = cases.filter((c) => Object.keys(c.bindings).length === 0);
    for (let i = 0; i < plain.length; i += 250) await judge(plain.slice(i, i + 250), {});
    for (const c of cases.filter((c) => Object.keys(c.bindings).length > 0)) {
      await judge([c], c.bindings);
    }
    ({ fastPath, fallbacks } = await cel.inspect());
  } finally {
    await cel.close();
  }
  const passed = cases.length - failed.size;
  const rate = passed / cases.length;
  console.log(
    `  ${cases.length} applicable cases: ${passed} pass, ${failed.size} fail ` +
      `(all skipped: ${Object.keys(skips).length}); pass rate ${(rate * 100).toFixed(2)} %; ` +
      `compiled fast path answered ${fastPath}, handed ${fallbacks} back to the library`,
  );
  const unexpected = [...failed].filter(([id]) => !(id in skips));
  assertEquals(unexpected, [], "failing cases not in conformance_skips.json");
  const ids = new Set(cases.map((c) => c.id));
  const stale = Object.keys(skips).filter((id) => !failed.has(id) || !ids.has(id));
  assertEquals(stale, [], "skip entries that pass now (or no longer exist): remove them");
  for (const [id, reason] of Object.entries(skips)) assert(reason.trim(), `no reason for ${id}`);
  assert(rate >= 0.99, `pass rate ${rate} is under 99 %`);
  // The compiled code, not only the library behind it, must have answered:
  // at least 40 % of the cases (507 of 1,076 when this was written).
  assert(fastPath >= cases.length * 0.4, `the fast path answered only ${fastPath} cases`);
});
