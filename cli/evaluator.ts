import {
  type DataReader,
  EXPRESSION_VALUE_MAX_BYTES,
  type ExpressionEvaluator,
  withDataSnapshots,
} from "../runtime/mod.ts";
import { closeWithCommand } from "./request_scope.ts";

/**
 * The CEL sandbox, started on first use: most runs evaluate no expression,
 * and starting the sandbox costs more than a short step. With `data`, the
 * expressions may call data.* (read from it, before each evaluation that does).
 */
export function lazyEvaluator(
  data?: () => Promise<DataReader>,
): ExpressionEvaluator & { close(): Promise<void> } {
  let started: Promise<ExpressionEvaluator> | undefined;
  const get = () =>
    started ??= import("../wasm/mod.ts").then(async (m) => {
      closeWithCommand(() => close());
      const cel = await (m.createCelEvaluator({
        maxVariableBytes: EXPRESSION_VALUE_MAX_BYTES,
      }) as Promise<ExpressionEvaluator>);
      return data ? withDataSnapshots(cel, data) : cel;
    });
  const close = async () => {
    if (started) await (await started).close();
  };
  return {
    check: async (expressions, known) => (await get()).check(expressions, known),
    evaluate: async (expressions, variables) => (await get()).evaluate(expressions, variables),
    close,
  };
}
