// The changes a store makes to one token record (revoke, bind), written once
// for every store. Each store applies them under its own lock or inside its
// own transaction, so the read, the decision and the write are one atomic step.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { StoredApiToken } from "./tokens.ts";
import {
  applyBinding,
  applyRevoke,
  bindingOf,
  type StoredWorkerToken,
  type WorkerTokenBinding,
} from "./worker_tokens.ts";

/** What a change answers, and whether the record it changed in place must be written back. */
export interface TokenChange<Result> {
  result: Result;
  write: boolean;
}

/** Revocation as revoke(Worker)Token answers it: the record after the call, and whether it changed. */
export type Revoked<Record> = { record: Record; changed: boolean };

/** Revokes an API token in place unless it already is. */
export function revokeApiRecord(
  record: StoredApiToken,
  time: Date,
): TokenChange<Revoked<StoredApiToken>> {
  const changed = !record.token.revokeTime;
  if (changed) record.token.revokeTime = timestampFromDate(time);
  return { result: { record, changed }, write: changed };
}

/** Revokes a worker enrollment token in place unless it already is. */
export function revokeWorkerRecord(
  record: StoredWorkerToken,
  time: Date,
): TokenChange<Revoked<StoredWorkerToken>> {
  const changed = applyRevoke(record.token, time);
  return { result: { record, changed }, write: changed };
}

/** Binds a worker enrollment token to a machine in place, by the rule of bindWorkerToken. */
export function bindWorkerRecord(
  record: StoredWorkerToken,
  machineId: string,
  time: Date,
): TokenChange<WorkerTokenBinding> {
  const outcome = applyBinding(record.token, machineId, time);
  return { result: bindingOf(record, outcome), write: outcome === "bound" };
}

/** Records read and written one at a time, inside a lock or transaction the caller holds. */
export interface TokenRecords<Token, Record extends { token: Token }> {
  get(name: string): Record | undefined;
  put(token: Token): void;
}

/** Applies `change` to the named record and writes it back when it changed; undefined for an unknown name. */
export function changeTokenRecord<Token, Record extends { token: Token }, Result>(
  records: TokenRecords<Token, Record>,
  name: string,
  change: (record: Record) => TokenChange<Result>,
): Result | undefined {
  const record = records.get(name);
  if (!record) return undefined;
  const { result, write } = change(record);
  if (write) records.put(record.token);
  return result;
}
