// A store whose calls ride out a short outage of its database (decision
// 0027): a call that fails with store_unreachable is tried again, with
// backoff, until `limitMs` has passed since it first failed. Retrying is
// safe because every conditional write decides against the store's state: an
// append that did commit before its connection dropped is answered by a
// conflict on the retry, and the journal re-reads and re-decides (0011).
// Only stores that can be unreachable (PostgreSQL) ever fail that way.
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { RunStore } from "../ports/store.ts";

export function patientStore(
  store: RunStore,
  options: { limitMs: number; onRetry?: (method: string, error: unknown) => void },
): RunStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || property === "close") return value;
      return async (...args: unknown[]) => {
        const started = Date.now();
        for (let attempt = 0;; attempt++) {
          try {
            return await value.apply(target, args);
          } catch (error) {
            const unreachable = error instanceof SwampError &&
              error.code === ErrorCode.STORE_UNREACHABLE;
            if (!unreachable || Date.now() - started > options.limitMs) throw error;
            options.onRetry?.(String(property), error);
            const waitMs = Math.min(2000, 100 * 2 ** Math.min(attempt, 5));
            await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
        }
      };
    },
  });
}
