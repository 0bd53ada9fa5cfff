// The cel-spec conformance cases of CEL's extension libraries. Those the
// sandbox turns on must pass like the core suites: every failure listed in
// conformance_ext_skips.json with its reason, at least 99 % of each suite.
// `strings` is @bufbuild/cel's own (the only extension its newest release,
// 0.6.1, provides); `math`, `encoders` and `bindings` are written beside it
// (sandbox_extensions.ts). The others are not available: their counts are
// printed, so a library release that brings them shows here.
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import { conformanceCases, sameValue } from "./conformance_cases.ts";

const skips: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("./conformance_ext_skips.json", import.meta.url)),
);
const ON = ["string_ext", "math_ext", "encoders_ext", "bindings_ext"];
const OFF = ["optionals", "macros2", "block_ext"];

Deno.test("cel-spec conformance of the extension libraries: strings, math, encoders and bindings are on and pass", async () => {
  const cel = new CelEvaluator({ deadlineMs: 5_000 });
  const failed = new Map<string, string>();
  const counts: string[] = [];
  try {
    for (const suite of [...ON, ...OFF]) {
      const cases = conformanceCases([suite]);
      let passed = 0;
      for (const c of cases) {
        const [r] = await cel.evaluateWire([c.expr], c.bindings, "typed");
        const pass = c.value === undefined ? !r.ok : r.ok && sameValue(r.value, c.value);
        if (pass) passed++;
        else if (ON.includes(suite)) failed.set(c.id, `${c.expr} → ${JSON.stringify(r)}`);
      }
      counts.push(`${suite} ${passed}/${cases.length}${ON.includes(suite) ? " (on)" : " (off)"}`);
      if (ON.includes(suite)) {
        assert(cases.length >= 4, `${suite} has only ${cases.length} applicable cases`);
        assert(passed / cases.length >= 0.99, `${suite}: ${passed} of ${cases.length} pass`);
      }
    }
  } finally {
    await cel.close();
  }
  console.log(`  extension suites: ${counts.join(", ")}`);
  const unexpected = [...failed].filter(([id]) => !(id in skips));
  assertEquals(unexpected, [], "failing cases not in conformance_ext_skips.json");
  const stale = Object.keys(skips).filter((id) => !failed.has(id));
  assertEquals(stale, [], "skip entries that pass now (or no longer exist): remove them");
});
