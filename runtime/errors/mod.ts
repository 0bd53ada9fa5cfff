export {
  asSwampError,
  describeCause,
  ErrorCode,
  errorCodeName,
  SwampError,
} from "./swamp_error.ts";
export type { SwampErrorOptions } from "./swamp_error.ts";
export {
  codeForGrpcStatus,
  type CodeRow,
  errorCodeTable,
  exitCodeFor,
  grpcStatus,
  grpcStatusFor,
  type GrpcStatusName,
} from "./code_table.ts";
