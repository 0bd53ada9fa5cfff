import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";

// `${{ expr }}` templating. A value that is exactly one expression keeps the
// expression's type; expressions embedded in a longer string are
// interpolated as text. All expressions of one value tree are evaluated in
// one batch.

/** A value that is exactly one expression. */
export const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;
/** Every expression inside a value. */
export const embedded = /\$\{\{([\s\S]*?)\}\}/g;

/** Every expression in a value tree, in the order they appear. */
export function collectExpressions(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") {
    for (const match of value.matchAll(embedded)) out.push(match[1].trim());
  } else if (Array.isArray(value)) {
    for (const item of value) collectExpressions(item, out);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) collectExpressions(item, out);
  }
  return out;
}

/** Resolves every `${{ }}` in a value tree against `variables`. */
export async function renderTemplate(
  value: unknown,
  variables: Record<string, unknown>,
  evaluator: ExpressionEvaluator | undefined,
  where: string,
): Promise<unknown> {
  const expressions = collectExpressions(value);
  if (expressions.length === 0) return value;
  if (!evaluator) {
    throw new SwampError(
      ErrorCode.EXPRESSION_INVALID,
      `${where} uses an expression, but no evaluator is configured`,
    );
  }
  const results = await evaluator.evaluate(expressions, variables);
  const values = results.map((result, i) => {
    if (result.ok) return result.value;
    throw new SwampError(
      result.limitExceeded ? ErrorCode.EXPRESSION_LIMIT_EXCEEDED : ErrorCode.EXPRESSION_INVALID,
      `${where}: \`${expressions[i]}\`: ${result.error}${
        absentInput(expressions[i], result.error)
      }`,
    );
  });
  let next = 0;
  const substitute = (node: unknown): unknown => {
    if (typeof node === "string") {
      if (whole.test(node) && (node.match(embedded)?.length ?? 0) === 1) return values[next++];
      return node.replace(embedded, () => textOf(values[next++]));
    }
    if (Array.isArray(node)) return node.map(substitute);
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v)]));
    }
    return node;
  };
  return substitute(value);
}

/** Why a field of `inputs` was not found, when that is the error: an optional input not given. */
function absentInput(expression: string, error: string): string {
  const field = /field not found: (\w+)/.exec(error)?.[1];
  if (!field || !new RegExp(`\\binputs\\.${field}\\b`).test(expression)) return "";
  return ` (no input \`${field}\` was given: declare a default for it, or guard with ` +
    `has(inputs.${field}))`;
}

/** How a value reads when interpolated into a string. */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
