export {
  asSwampError,
  describeCause,
  ErrorCode,
  errorCodeName,
  SwampError,
} from "./swamp_error.ts";
export type { SwampErrorOptions } from "./swamp_error.ts";
