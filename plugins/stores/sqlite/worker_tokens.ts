/// <reference path="./node_sqlite.d.ts" />
// Worker enrollment tokens in the worker_tokens table, kept as
// secret_records.ts keeps every record guarded by a secret's hash. A bind's
// read of the bound machine and its update run in one write transaction, so
// of two processes binding one token to different machines exactly one wins.
import type { DatabaseSync } from "node:sqlite";
import { clone } from "@bufbuild/protobuf";
import {
  WorkerTokenSchema,
  WorkerTokenState,
} from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  bindWorkerRecord,
  changeTokenRecord,
  revokeWorkerRecord,
  type StoredWorkerToken,
  type WorkerTokenBinding,
  WorkerTokenExists,
} from "../../../runtime/mod.ts";
import { SqliteSecretRecords } from "./secret_records.ts";

export class SqliteWorkerTokens {
  private readonly records: SqliteSecretRecords<typeof WorkerTokenSchema>;

  constructor(db: DatabaseSync) {
    this.records = new SqliteSecretRecords(db, {
      table: "worker_tokens",
      schema: WorkerTokenSchema,
      // `effectiveState` is computed by readers from the times, so it is never kept.
      stored: (token) => ({
        ...clone(WorkerTokenSchema, token),
        effectiveState: WorkerTokenState.UNSPECIFIED,
      }),
      exists: (name) => new WorkerTokenExists(name),
    });
  }

  /** Call inside a write transaction. */
  create(record: StoredWorkerToken): void {
    this.records.create(record);
  }

  get(name: string): StoredWorkerToken | undefined {
    return this.records.get(name);
  }

  list(): StoredWorkerToken[] {
    return this.records.list();
  }

  /** Call inside a write transaction. */
  revoke(name: string, time: Date): { record: StoredWorkerToken; changed: boolean } | undefined {
    return changeTokenRecord(this.records, name, (record) => revokeWorkerRecord(record, time));
  }

  /** Call inside a write transaction. */
  bind(name: string, machineId: string, time: Date): WorkerTokenBinding | undefined {
    return changeTokenRecord(
      this.records,
      name,
      (record) => bindWorkerRecord(record, machineId, time),
    );
  }
}
