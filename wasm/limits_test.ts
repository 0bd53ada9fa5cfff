// Hard limits: a deadline per expression and a memory cap that holds. No
// timing assertions: only outcomes, and the process's memory growth.
import { assert, assertEquals, assertMatch } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";

const ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
/** 10^7 inner evaluations: far beyond any deadline used here. */
const runaway = `${ten}.map(a, ${ten}.map(b, ${ten}.map(c, ${ten}.map(d, ${ten}.map(e, ` +
  `${ten}.map(f, ${ten}.map(g, a + b + c + d + e + f + g)))))))`;

/**
 * Doubles a string 26 times (16 B → 1 GiB). trim() forces each level to a
 * flat string, so memory is really allocated (plain concatenation builds
 * ropes and would hit QuickJS's string length cap instead).
 */
function memoryHungry(levels = 26): string {
  let e = `size(v${levels})`;
  for (let i = levels - 1; i >= 0; i--) e = `[(v${i} + v${i}).trim()].map(v${i + 1}, ${e})`;
  return `["0123456789abcdef"].map(v0, ${e})`;
}

Deno.test("a runaway expression stops at its deadline; the rest of the batch and later calls go on", async () => {
  const cel = new CelEvaluator({ deadlineMs: 100 });
  try {
    const results = await cel.evaluate(["1 + 1", runaway, "2 + 2"], {});
    assertEquals(results[0], { ok: true, value: 2 });
    assert(!results[1].ok && results[1].limitExceeded);
    if (!results[1].ok) {
      assertMatch(results[1].error, /^expression_limit_exceeded: .*100 ms deadline/);
    }
    assertEquals(results[2], { ok: true, value: 4 });
    assertEquals(await cel.evaluate(["[1, 2].map(x, x * 10)"], {}), [{
      ok: true,
      value: [10, 20],
    }]);
    assertEquals(cel.replacements, 0); // the interrupted context stayed usable
  } finally {
    await cel.close();
  }
});

Deno.test("every expression of a batch gets its own deadline", async () => {
  // Two runaways in a row: the second is not blamed for time the first used,
  // it is re-run with a fresh deadline and fails on its own account.
  const cel = new CelEvaluator({ deadlineMs: 50 });
  try {
    const results = await cel.evaluate([runaway, runaway, "'ok'"], {});
    assertEquals(results.map((r) => r.ok ? r.value : r.limitExceeded), [true, true, "ok"]);
  } finally {
    await cel.close();
  }
});

for (const engineMemoryLimit of [true, false]) {
  const how = engineMemoryLimit ? "with" : "without";
  Deno.test(`memory: a hungry expression fails and the process stays within 64 MiB (${how} QuickJS's own limit)`, async () => {
    const cel = new CelEvaluator({
      deadlineMs: 60_000, // memory, not time, must be the limit that trips
      memoryLimitBytes: 32 << 20,
      engineMemoryLimit,
    });
    try {
      await cel.start();
      assertEquals(await cel.evaluate(["1 + 1"], {}), [{ ok: true, value: 2 }]);
      const before = Deno.memoryUsage().rss;
      for (let round = 0; round < 3; round++) {
        const results = await cel.evaluate([memoryHungry(), "'after'"], {});
        assert(!results[0].ok && results[0].limitExceeded, JSON.stringify(results[0]));
        if (!results[0].ok) assertMatch(results[0].error, /^expression_limit_exceeded/);
        assertEquals(results[1], { ok: true, value: "after" });
      }
      const grown = Deno.memoryUsage().rss - before;
      console.log(`  RSS grew ${(grown / 1048576).toFixed(1)} MiB over 3 rounds`);
      assert(grown <= 64 * 1048576, `RSS grew ${grown} bytes`);
      assertEquals(await cel.evaluate(["'still' + ' fine'"], {}), [{
        ok: true,
        value: "still fine",
      }]);
    } finally {
      await cel.close();
    }
  });
}

Deno.test("deeply nested input is refused as a limit, not a crash", async () => {
  const cel = new CelEvaluator();
  try {
    const deep = "(".repeat(5000) + "1" + ")".repeat(5000);
    const [result] = await cel.evaluate([deep], {});
    assert(!result.ok);
    assertEquals(await cel.evaluate(["1"], {}), [{ ok: true, value: 1 }]);
  } finally {
    await cel.close();
  }
});
