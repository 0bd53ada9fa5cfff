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

/**
 * The largest JSON a variable may have to be read by expressions (8 MiB), and
 * how deep its lists and maps may nest (256). The CEL sandbox refuses values
 * past these before they reach it (wasm/wire_session.ts; the CLI wires it
 * with these numbers), and a run whose inputs are past them is refused when
 * it is submitted, rather than failing every step that reads them.
 */
export const EXPRESSION_VALUE_MAX_BYTES = 8 * 1024 * 1024;
export const EXPRESSION_VALUE_MAX_DEPTH = 256;
