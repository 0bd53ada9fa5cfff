import type { ExpressionCheck, ExpressionEvaluator } from "../ports/expressions.ts";
import type { ExpressionChecker } from "../workflow/expression_check.ts";

// Checking an expression needs the CEL sandbox, which takes seconds to start.
// The verdicts are a pure function of the text and the known names, so they
// are kept in .swamp/cache/ and `validate` starts the sandbox only for new
// expressions.

const version = "cel-check-2";
const maxEntries = 20_000;

export function cachedChecker(
  root: string,
  evaluator: () => ExpressionEvaluator,
): ExpressionChecker {
  const dir = `${root}/.swamp/cache`;
  const file = `${dir}/expression-checks.json`;
  return async (expressions, known) => {
    const prefix = `${version}|${known.join(",")}|`;
    const cache = await read(file);
    const missing = [...new Set(expressions.filter((e) => !(prefix + e in cache)))];
    if (missing.length > 0) {
      const fresh = await evaluator().check(missing, known);
      missing.forEach((expression, i) => cache[prefix + expression] = fresh[i]);
      await write(dir, file, cache);
    }
    return expressions.map((e) => cache[prefix + e]);
  };
}

async function read(file: string): Promise<Record<string, ExpressionCheck>> {
  try {
    const data = JSON.parse(await Deno.readTextFile(file));
    return data !== null && typeof data === "object" ? data : {};
  } catch {
    return {}; // absent or damaged: checked again
  }
}

async function write(dir: string, file: string, cache: Record<string, ExpressionCheck>) {
  const entries = Object.entries(cache);
  const kept = entries.length > maxEntries ? entries.slice(-maxEntries) : entries;
  try {
    await Deno.mkdir(dir, { recursive: true });
    const temp = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(Object.fromEntries(kept)));
    await Deno.rename(temp, file);
  } catch {
    // A cache that cannot be written only costs time next run.
  }
}
