// The CEL sandbox: CEL expressions evaluated by a JS CEL library running in
// QuickJS compiled to WebAssembly, with a deadline per expression and a hard
// cap on the sandbox's memory. See docs/design/0004-cel-sandbox.md.

import { CelEvaluator, type CelEvaluatorOptions } from "./evaluator.ts";
import type { ExpressionEvaluator } from "./types.ts";

export type { ExpressionCheck, ExpressionEvaluator, ExpressionResult } from "./types.ts";
export type { CelEvaluatorOptions } from "./evaluator.ts";
export { DEFAULT_DEADLINE_MS, DEFAULT_MEMORY_LIMIT_BYTES } from "./evaluator.ts";

/**
 * Creates an evaluator and its sandbox (about a second on a slow machine:
 * create one and reuse it). Values cross as JSON-compatible data; see
 * docs/design/0004-cel-sandbox.md for the mapping of CEL types.
 */
export async function createCelEvaluator(
  options: CelEvaluatorOptions = {},
): Promise<ExpressionEvaluator> {
  const evaluator = new CelEvaluator(options);
  await evaluator.start();
  return evaluator;
}
