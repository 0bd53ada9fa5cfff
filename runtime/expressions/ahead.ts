import type { ExpressionEvaluator } from "../ports/expressions.ts";
import { embedded, textOf, whole } from "./template.ts";
import { maskedRead, rewriteVaultCalls } from "./vault_calls.ts";

// Evaluating what can be known before a run: expressions that use nothing
// but `inputs` and the declared host variables (`env`). Everything else (run, step, item, steps, …) is left as
// written and listed, with why it waits.

export interface Unresolved {
  /** Dotted path of the value, e.g. jobs[0].steps[1].task.inputs.run. */
  path: string;
  expression: string;
  reason: string;
}

interface Site {
  path: string;
  text: string;
  expressions: string[];
}

export async function evaluateAhead(
  value: unknown,
  scope: { inputs: Record<string, unknown>; env: Record<string, string> },
  evaluator: ExpressionEvaluator,
): Promise<{ value: unknown; unresolved: Unresolved[] }> {
  const sites: Site[] = [];
  collect(value, "", sites);
  const unique = [...new Set(sites.flatMap((s) => s.expressions))];
  const unresolved: Unresolved[] = [];
  const known = new Map<string, unknown>();
  if (unique.length > 0) {
    // No secret is read ahead of a run: `vault.get(…)` shows as "***".
    const why = new Map<string, string>();
    const rewritten = new Map<string, string>();
    for (const e of unique) {
      try {
        rewritten.set(e, rewriteVaultCalls(e, maskedRead));
      } catch (error) {
        why.set(e, (error as Error).message);
      }
    }
    const candidates = unique.filter((e) => rewritten.has(e));
    const checks = await evaluator.check(candidates.map((e) => rewritten.get(e)!), [
      "inputs",
      "env",
    ]);
    const ready = candidates.filter((_, i) => checks[i].ok);
    candidates.forEach((e, i) => {
      const check = checks[i];
      why.set(e, check.ok ? "" : check.error);
    });
    const results = ready.length > 0
      ? await evaluator.evaluate(ready.map((e) => rewritten.get(e)!), scope)
      : [];
    results.forEach((result, i) => {
      if (result.ok) known.set(ready[i], result.value);
      else why.set(ready[i], result.error);
    });
    for (const site of sites) {
      for (const expression of site.expressions) {
        if (known.has(expression)) continue;
        const error = why.get(expression) ?? "";
        unresolved.push({
          path: site.path,
          expression,
          reason: /unknown variable/.test(error)
            ? `known only during a run (${error.replace(/^unknown variables?: /, "")})`
            : error,
        });
      }
    }
  }
  return { value: substitute(value, "", known), unresolved };
}

function collect(node: unknown, path: string, out: Site[]): void {
  if (typeof node === "string") {
    const expressions = [...node.matchAll(embedded)].map((m) => m[1].trim());
    if (expressions.length > 0) out.push({ path, text: node, expressions });
  } else if (Array.isArray(node)) {
    node.forEach((item, i) => collect(item, `${path}[${i}]`, out));
  } else if (node !== null && typeof node === "object") {
    for (const [key, item] of Object.entries(node)) {
      collect(item, path ? `${path}.${key}` : key, out);
    }
  }
}

/** The value with every string whose expressions are all known evaluated; others as written. */
function substitute(node: unknown, path: string, known: Map<string, unknown>): unknown {
  if (typeof node === "string") {
    const expressions = [...node.matchAll(embedded)].map((m) => m[1].trim());
    if (expressions.length === 0 || !expressions.every((e) => known.has(e))) return node;
    if (whole.test(node) && expressions.length === 1) return known.get(expressions[0]);
    return node.replace(embedded, (_, e: string) => textOf(known.get(e.trim())));
  }
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, `${path}[${i}]`, known));
  if (node !== null && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, known)]),
    );
  }
  return node;
}
