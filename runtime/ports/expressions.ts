/**
 * Evaluates `${{ … }}` expressions (CEL). Expressions are untrusted input,
 * so implementations run them in a sandbox with a deadline and a memory
 * bound. Batched: one call per step, with every expression of that step.
 *
 * Values cross as JSON-compatible data (null, booleans, numbers, strings,
 * arrays, plain objects): CEL ints and uints come back as numbers (an error
 * if beyond the safe integer range), timestamps and durations as strings.
 */
export interface ExpressionEvaluator {
  /** Checks syntax and the names an expression refers to, without evaluating it. */
  check(expressions: string[], knownVariables: string[]): Promise<ExpressionCheck[]>;

  /** Evaluates each expression against the same variables. */
  evaluate(expressions: string[], variables: Record<string, unknown>): Promise<ExpressionResult[]>;

  close(): Promise<void>;
}

export type ExpressionCheck =
  /** envReads: the `env` fields named literally (`env.HOME`, `env["HOME"]`). */
  | { ok: true; envReads?: string[] }
  | { ok: false; error: string };

export type ExpressionResult =
  | { ok: true; value: unknown }
  | { ok: false; error: string; limitExceeded: boolean };
