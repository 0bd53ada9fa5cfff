// Exit statuses come from the one error-code table in the runtime
// (runtime/errors/code_table.ts), which also gives each code its gRPC status.
import { errorCodeTable } from "../runtime/mod.ts";

export { exitCodeFor } from "../runtime/mod.ts";

/** Error code (text form) → exit status, as the docs and the tests read it. */
export const exitCodes: Record<string, number> = Object.fromEntries(
  Object.entries(errorCodeTable).map(([name, row]) => [name, row.exit]),
);
