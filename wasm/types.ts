// The ExpressionEvaluator port, restated. wasm/ must not import runtime/
// (DESIGN §3: the runtime reaches wasm only through its port, wired by the
// CLI), so these types mirror runtime/ports/expressions.ts exactly and stay
// compatible with it structurally. Keep the two in step.

/** Compile and evaluate CEL, in batches, with limits. */
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
