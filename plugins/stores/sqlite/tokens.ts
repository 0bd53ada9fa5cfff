/// <reference path="./node_sqlite.d.ts" />
// API tokens in the api_tokens table (schema.ts): one row per name, the
// secret's hash beside the protobuf-binary ApiToken. The methods are plain
// synchronous steps; the store runs each write in its own write transaction,
// so a create's existence check and insert, or a revoke's read and update,
// cannot interleave with another process.
import type { DatabaseSync, Row, StatementSync } from "node:sqlite";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ApiToken,
  ApiTokenSchema,
  ApiTokenState,
} from "../../../proto/gen/swamp/v1/auth_service_pb.ts";
import { type StoredApiToken, TokenExists } from "../../../runtime/mod.ts";

const sql = {
  get: "SELECT secret_hash, data FROM api_tokens WHERE name = ?",
  insert: "INSERT INTO api_tokens (name, secret_hash, data) VALUES (?, ?, ?)",
  update: "UPDATE api_tokens SET data = ? WHERE name = ?",
  // BINARY collation: plain byte order, never a locale's, like the file store.
  all: "SELECT secret_hash, data FROM api_tokens ORDER BY name",
};

/** `state` is computed by readers from the times, so it is never kept. */
function encodeToken(token: ApiToken): Uint8Array {
  const copy = clone(ApiTokenSchema, token);
  copy.state = ApiTokenState.UNSPECIFIED;
  return toBinary(ApiTokenSchema, copy);
}

function recordOf(row: Row): StoredApiToken {
  return {
    secretHash: String(row.secret_hash),
    token: fromBinary(ApiTokenSchema, row.data as Uint8Array),
  };
}

export class SqliteTokens {
  private readonly statements: Record<keyof typeof sql, StatementSync>;

  constructor(db: DatabaseSync) {
    this.statements = {
      get: db.prepare(sql.get),
      insert: db.prepare(sql.insert),
      update: db.prepare(sql.update),
      all: db.prepare(sql.all),
    };
  }

  /** Call inside a write transaction. */
  create(record: StoredApiToken): void {
    const name = record.token.name;
    if (this.statements.get.get(name)) throw new TokenExists(name);
    this.statements.insert.run(name, record.secretHash, encodeToken(record.token));
  }

  get(name: string): StoredApiToken | undefined {
    const row = this.statements.get.get(name);
    return row ? recordOf(row) : undefined;
  }

  list(): StoredApiToken[] {
    return this.statements.all.all().map(recordOf);
  }

  /** Call inside a write transaction. */
  revoke(name: string, time: Date): { record: StoredApiToken; changed: boolean } | undefined {
    const record = this.get(name);
    if (!record) return undefined;
    if (record.token.revokeTime) return { record, changed: false };
    record.token.revokeTime = timestampFromDate(time);
    this.statements.update.run(encodeToken(record.token), name);
    return { record, changed: true };
  }
}
