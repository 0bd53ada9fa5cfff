// The one table from error codes (their stable text form) to exit statuses.
// A test checks that every ErrorCode of the contract has an entry here.
export const exitCodes: Record<string, number> = {
  // 1: a run ended badly
  run_failed: 1,
  run_cancelled: 1,
  run_abandoned: 1,
  // 2: the command line was wrong
  usage: 2,
  // 3: the files or inputs given are invalid
  invalid_workflow: 3,
  invalid_model: 3,
  invalid_input: 3,
  expression_invalid: 3,
  // 4: the thing asked for is not there, or not unique
  repo_not_found: 4,
  not_found: 4,
  ambiguous: 4,
  // 5: the request conflicts with the current state
  already_exists: 5,
  conflict: 5,
  run_terminal: 5,
  run_state: 5,
  approval_pending: 5,
  approval_expired: 5,
  not_approver: 5,
  stale_lease: 5,
  // 6: a limit was hit
  lock_timeout: 6,
  expression_limit_exceeded: 6,
  step_timeout: 6,
  out_of_memory: 6,
  // 7: something outside swamp failed or refused
  io: 7,
  executor_unavailable: 7,
  image_missing: 7,
  unavailable: 7,
  // 8: connection and credentials
  protocol_mismatch: 8,
  already_connected: 8,
  bound_to_other_machine: 8,
  token_expired: 8,
  token_revoked: 8,
  token_invalid: 8,
  pin_mismatch: 8,
  // 9: not built yet
  unimplemented: 9,
  // 70: a bug in swamp
  internal: 70,
  unspecified: 70,
};

export function exitCodeFor(codeName: string): number {
  return exitCodes[codeName] ?? 70;
}
