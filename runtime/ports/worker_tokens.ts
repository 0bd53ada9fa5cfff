import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type WorkerToken, WorkerTokenState } from "../../proto/gen/swamp/v1/worker_service_pb.ts";

/**
 * A worker enrollment token as a store keeps it: its public description and
 * the SHA-256 of its secret (lower-case hex). The secret itself is never
 * stored. `token.state` (the recorded state) is stored; `token.effectiveState`
 * is not: readers compute it from the times.
 */
export interface StoredWorkerToken {
  token: WorkerToken;
  secretHash: string;
}

/**
 * Why a store refused to bind a token, in the stable text form of the error
 * code a worker is refused with. It names nothing secret: not even the
 * machine the token is bound to.
 */
export type WorkerTokenRefusal = "bound_to_other_machine" | "token_revoked" | "token_expired";

/** The outcome of bindWorkerToken for a token that exists. */
export type WorkerTokenBinding =
  /** Bound to the machine asked for; `changed` is false when it already was. */
  | { bound: true; record: StoredWorkerToken; changed: boolean }
  /** Not bound, and nothing changed. */
  | { bound: false; refusal: WorkerTokenRefusal };

/**
 * Where `swamp serve` and `swamp worker token` keep worker enrollment tokens.
 * Names are unique per repository (apart from API token names). Every method
 * is a single atomic operation, safe when several processes use the same store.
 */
export interface WorkerTokenStore {
  /** Stores a new token; throws WorkerTokenExists when the name is taken (revoked tokens keep their name). */
  createWorkerToken(record: StoredWorkerToken): Promise<void>;
  /** The token of that name, or undefined. Read-only: a store may share it with later calls. */
  getWorkerToken(name: string): Promise<StoredWorkerToken | undefined>;
  /** Every token, ordered by name. */
  listWorkerTokens(): Promise<StoredWorkerToken[]>;
  /**
   * Sets the token's revoke time to `time` and its state to revoked, unless it
   * is already revoked. Returns the record after the call and whether it
   * changed; undefined for an unknown name.
   */
  revokeWorkerToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredWorkerToken; changed: boolean } | undefined>;
  /**
   * Binds the token to `machineId` at `time`, as one compare-and-set: a token
   * bound to nobody is bound (its enroll time set to `time`, its state to
   * enrolled); a token bound to `machineId` stays as it is; a token bound to
   * another machine, revoked, or expired at `time` is refused and nothing
   * changes. Of several callers binding one unbound token to different
   * machines, in any processes, exactly one is bound. Undefined for an
   * unknown name.
   */
  bindWorkerToken(
    name: string,
    machineId: string,
    time: Date,
  ): Promise<WorkerTokenBinding | undefined>;
}

/** A worker token of that name already exists. */
export class WorkerTokenExists extends Error {
  constructor(readonly tokenName: string) {
    super(`a worker token named ${tokenName} already exists`);
    this.name = "WorkerTokenExists";
  }
}

/**
 * The rule of bindWorkerToken, for stores to apply under their own lock or in
 * their own transaction: revoked, then expired at `time`, then bound to
 * another machine are refusals; bound to `machineId` already is "unchanged";
 * otherwise `token` is bound (changed in place) and the answer is "bound".
 */
export function applyBinding(
  token: WorkerToken,
  machineId: string,
  time: Date,
): WorkerTokenRefusal | "bound" | "unchanged" {
  if (token.revokeTime) return "token_revoked";
  if (!token.expireTime || timestampDate(token.expireTime) <= time) return "token_expired";
  if (token.boundMachineId === machineId) return "unchanged";
  if (token.boundMachineId !== "") return "bound_to_other_machine";
  token.boundMachineId = machineId;
  token.enrollTime = timestampFromDate(time);
  token.state = WorkerTokenState.ENROLLED;
  return "bound";
}

/** The rule of revokeWorkerToken: revokes `token` in place; false when it already was. */
export function applyRevoke(token: WorkerToken, time: Date): boolean {
  if (token.revokeTime) return false;
  token.revokeTime = timestampFromDate(time);
  token.state = WorkerTokenState.REVOKED;
  return true;
}

/** The binding a store answers with after applyBinding changed `record` (or refused). */
export function bindingOf(
  record: StoredWorkerToken,
  outcome: WorkerTokenRefusal | "bound" | "unchanged",
): WorkerTokenBinding {
  if (outcome === "bound" || outcome === "unchanged") {
    return { bound: true, record, changed: outcome === "bound" };
  }
  return { bound: false, refusal: outcome };
}
