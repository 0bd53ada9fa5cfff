/// <reference path="./node_sqlite.d.ts" />
// Records kept by name beside the hash of a secret (API tokens in api_tokens,
// worker enrollment tokens in worker_tokens; schema.ts): one row per name,
// the hash beside the protobuf-binary record. The methods are plain
// synchronous steps; the store runs each write in its own BEGIN IMMEDIATE
// transaction, so a create's existence check and insert, or a change's read
// and update, cannot interleave with another process's.
import type { DatabaseSync, Row, StatementSync } from "node:sqlite";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";

export interface SecretRecord<M> {
  token: M;
  secretHash: string;
}

/** What differs between the kinds of records. */
export interface RecordKind<D extends DescMessage> {
  table: "api_tokens" | "worker_tokens";
  schema: D;
  /** A copy without the fields readers compute from the times: those are never kept. */
  stored(token: MessageShape<D>): MessageShape<D>;
  /** The error for a name that is taken. */
  exists(name: string): Error;
}

/** Both kinds are named by their `name` field. */
function nameOf(token: unknown): string {
  return (token as { name: string }).name;
}

export class SqliteSecretRecords<D extends DescMessage> {
  private readonly statements: Record<"get" | "insert" | "update" | "all", StatementSync>;

  constructor(db: DatabaseSync, private readonly kind: RecordKind<D>) {
    const table = kind.table;
    this.statements = {
      get: db.prepare(`SELECT secret_hash, data FROM ${table} WHERE name = ?`),
      insert: db.prepare(`INSERT INTO ${table} (name, secret_hash, data) VALUES (?, ?, ?)`),
      update: db.prepare(`UPDATE ${table} SET data = ? WHERE name = ?`),
      // BINARY collation: plain byte order, never a locale's, like the file store.
      all: db.prepare(`SELECT secret_hash, data FROM ${table} ORDER BY name`),
    };
  }

  private recordOf(row: Row): SecretRecord<MessageShape<D>> {
    return {
      secretHash: String(row.secret_hash),
      token: fromBinary(this.kind.schema, row.data as Uint8Array),
    };
  }

  /** Call inside a write transaction. */
  create(record: SecretRecord<MessageShape<D>>): void {
    const name = nameOf(record.token);
    if (this.statements.get.get(name)) throw this.kind.exists(name);
    this.statements.insert.run(name, record.secretHash, this.encode(record.token));
  }

  get(name: string): SecretRecord<MessageShape<D>> | undefined {
    const row = this.statements.get.get(name);
    return row ? this.recordOf(row) : undefined;
  }

  list(): SecretRecord<MessageShape<D>>[] {
    return this.statements.all.all().map((row) => this.recordOf(row));
  }

  /** Call inside a write transaction, after changing `token` read from this table. */
  put(token: MessageShape<D>): void {
    this.statements.update.run(this.encode(token), nameOf(token));
  }

  private encode(token: MessageShape<D>): Uint8Array {
    return toBinary(this.kind.schema, this.kind.stored(token));
  }
}
