// The one table from each error code (its stable text form) to what it
// becomes at the edges: the gRPC/Connect status a server answers with, and
// the exit status of the CLI. A test checks that every ErrorCode of the
// contract has exactly one row. Plain data with no imports, so the CLI can
// read it on its error path without loading the runtime.

/** gRPC/Connect status codes by number (the numbers are fixed by gRPC). */
export const grpcStatus = {
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
} as const;

export type GrpcStatusName = keyof typeof grpcStatus;

export interface CodeRow {
  /** What a server answers with, so stock gRPC and Connect clients react sensibly. */
  grpc: GrpcStatusName;
  /** The CLI's exit status (documented groups in docs/reference/errors.md). */
  exit: number;
}

export const errorCodeTable: Record<string, CodeRow> = {
  // 1, 10–13: how a run ended, or that it has not (one status each, for scripts and agents)
  run_failed: { grpc: "failed_precondition", exit: 1 },
  run_cancelled: { grpc: "failed_precondition", exit: 10 },
  run_abandoned: { grpc: "failed_precondition", exit: 11 },
  run_suspended: { grpc: "failed_precondition", exit: 12 },
  run_active: { grpc: "failed_precondition", exit: 13 },
  // `swamp executor test` found a broken promise of the executor contract
  executor_contract_failed: { grpc: "failed_precondition", exit: 1 },
  // 2: the command line or request was wrong
  usage: { grpc: "invalid_argument", exit: 2 },
  // 3: the files or inputs given are invalid
  invalid_workflow: { grpc: "failed_precondition", exit: 3 },
  invalid_model: { grpc: "failed_precondition", exit: 3 },
  invalid_input: { grpc: "invalid_argument", exit: 3 },
  expression_invalid: { grpc: "invalid_argument", exit: 3 },
  executor_api_unsupported: { grpc: "failed_precondition", exit: 3 },
  executor_load_failed: { grpc: "failed_precondition", exit: 3 },
  executor_invalid: { grpc: "failed_precondition", exit: 3 },
  // 4: the thing asked for is not there, or not unique
  repo_not_found: { grpc: "not_found", exit: 4 },
  not_found: { grpc: "not_found", exit: 4 },
  ambiguous: { grpc: "invalid_argument", exit: 4 },
  vault_not_found: { grpc: "not_found", exit: 4 },
  secret_not_found: { grpc: "not_found", exit: 4 },
  // 5: the request conflicts with the current state
  already_exists: { grpc: "already_exists", exit: 5 },
  conflict: { grpc: "aborted", exit: 5 },
  run_terminal: { grpc: "failed_precondition", exit: 5 },
  run_state: { grpc: "failed_precondition", exit: 5 },
  approval_pending: { grpc: "failed_precondition", exit: 5 },
  approval_expired: { grpc: "failed_precondition", exit: 5 },
  not_approver: { grpc: "permission_denied", exit: 5 },
  stale_lease: { grpc: "aborted", exit: 5 },
  // 6: a limit was hit
  lock_timeout: { grpc: "deadline_exceeded", exit: 6 },
  expression_limit_exceeded: { grpc: "resource_exhausted", exit: 6 },
  step_timeout: { grpc: "deadline_exceeded", exit: 6 },
  workflow_timeout: { grpc: "deadline_exceeded", exit: 6 },
  out_of_memory: { grpc: "resource_exhausted", exit: 6 },
  message_too_large: { grpc: "resource_exhausted", exit: 6 },
  data_too_large: { grpc: "resource_exhausted", exit: 6 },
  deadline_exceeded: { grpc: "deadline_exceeded", exit: 6 },
  queue_timeout: { grpc: "deadline_exceeded", exit: 6 },
  // 7: something outside swamp failed or refused
  io: { grpc: "internal", exit: 7 },
  executor_unavailable: { grpc: "unavailable", exit: 7 },
  image_missing: { grpc: "failed_precondition", exit: 7 },
  bundle_mismatch: { grpc: "data_loss", exit: 7 },
  unavailable: { grpc: "unavailable", exit: 7 },
  worker_lost: { grpc: "unavailable", exit: 7 },
  // 8: connection and credentials
  protocol_mismatch: { grpc: "failed_precondition", exit: 8 },
  already_connected: { grpc: "already_exists", exit: 8 },
  bound_to_other_machine: { grpc: "permission_denied", exit: 8 },
  token_expired: { grpc: "unauthenticated", exit: 8 },
  token_revoked: { grpc: "unauthenticated", exit: 8 },
  token_invalid: { grpc: "unauthenticated", exit: 8 },
  pin_mismatch: { grpc: "unauthenticated", exit: 8 },
  unauthenticated: { grpc: "unauthenticated", exit: 8 },
  permission_denied: { grpc: "permission_denied", exit: 8 },
  vault_unreadable: { grpc: "failed_precondition", exit: 8 },
  vault_key_insecure: { grpc: "failed_precondition", exit: 8 },
  // 14–15: the store's database (PostgreSQL)
  store_unreachable: { grpc: "unavailable", exit: 14 },
  store_schema_newer: { grpc: "failed_precondition", exit: 15 },
  // 9: not built yet
  unimplemented: { grpc: "unimplemented", exit: 9 },
  // 70: a bug in swamp
  internal: { grpc: "internal", exit: 70 },
  unspecified: { grpc: "unknown", exit: 70 },
};

/** The CLI exit status for an error code's text form; unknown codes are bugs (70). */
export function exitCodeFor(codeName: string): number {
  return errorCodeTable[codeName]?.exit ?? 70;
}

/** The gRPC status number a server answers with for an error code's text form. */
export function grpcStatusFor(codeName: string): number {
  return grpcStatus[errorCodeTable[codeName]?.grpc ?? "unknown"];
}

/**
 * The swamp code for a gRPC status that arrived without swamp's error detail
 * (a proxy, a transport failure, a server that is not swamp).
 */
export function codeForGrpcStatus(status: number): string {
  const byStatus: Record<number, string> = {
    [grpcStatus.canceled]: "unavailable",
    [grpcStatus.invalid_argument]: "usage",
    [grpcStatus.deadline_exceeded]: "deadline_exceeded",
    [grpcStatus.not_found]: "not_found",
    [grpcStatus.already_exists]: "already_exists",
    [grpcStatus.permission_denied]: "permission_denied",
    [grpcStatus.resource_exhausted]: "message_too_large",
    [grpcStatus.aborted]: "conflict",
    [grpcStatus.unimplemented]: "unimplemented",
    [grpcStatus.unavailable]: "unavailable",
    [grpcStatus.unauthenticated]: "unauthenticated",
  };
  return byStatus[status] ?? "internal";
}
