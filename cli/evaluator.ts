import { EXPRESSION_VALUE_MAX_BYTES, type ExpressionEvaluator } from "../runtime/mod.ts";

/**
 * The CEL sandbox, started on first use: most runs evaluate no expression,
 * and starting the sandbox costs more than a short step.
 */
export function lazyEvaluator(): ExpressionEvaluator & { close(): Promise<void> } {
  let started: Promise<ExpressionEvaluator> | undefined;
  const get = () =>
    started ??= import("../wasm/mod.ts").then((m) =>
      m.createCelEvaluator({ maxVariableBytes: EXPRESSION_VALUE_MAX_BYTES }) as Promise<
        ExpressionEvaluator
      >
    );
  return {
    check: async (expressions, known) => (await get()).check(expressions, known),
    evaluate: async (expressions, variables) => (await get()).evaluate(expressions, variables),
    close: async () => {
      if (started) await (await started).close();
    },
  };
}
