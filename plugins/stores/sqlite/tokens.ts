/// <reference path="./node_sqlite.d.ts" />
// API tokens in the api_tokens table, kept as secret_records.ts keeps every
// record guarded by a secret's hash.
import type { DatabaseSync } from "node:sqlite";
import { clone } from "@bufbuild/protobuf";
import { ApiTokenSchema, ApiTokenState } from "../../../proto/gen/swamp/v1/auth_service_pb.ts";
import {
  changeTokenRecord,
  revokeApiRecord,
  type StoredApiToken,
  TokenExists,
} from "../../../runtime/mod.ts";
import { SqliteSecretRecords } from "./secret_records.ts";

export class SqliteTokens {
  private readonly records: SqliteSecretRecords<typeof ApiTokenSchema>;

  constructor(db: DatabaseSync) {
    this.records = new SqliteSecretRecords(db, {
      table: "api_tokens",
      schema: ApiTokenSchema,
      // `state` is computed by readers from the times, so it is never kept.
      stored: (token) => ({ ...clone(ApiTokenSchema, token), state: ApiTokenState.UNSPECIFIED }),
      exists: (name) => new TokenExists(name),
    });
  }

  /** Call inside a write transaction. */
  create(record: StoredApiToken): void {
    this.records.create(record);
  }

  get(name: string): StoredApiToken | undefined {
    return this.records.get(name);
  }

  list(): StoredApiToken[] {
    return this.records.list();
  }

  /** Call inside a write transaction. */
  revoke(name: string, time: Date): { record: StoredApiToken; changed: boolean } | undefined {
    return changeTokenRecord(this.records, name, (record) => revokeApiRecord(record, time));
  }
}
