// API tokens (api_tokens) and worker enrollment tokens (worker_tokens): one
// row per name, the secret's hash beside the protobuf-binary record. A create
// is an insert that does nothing when the name is taken (the primary key
// decides across processes); a change (revoke, bind) reads the row FOR UPDATE
// and writes it back in the same transaction, so of two processes binding one
// token to different machines exactly one wins.
import {
  clone,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { ApiTokenSchema, ApiTokenState } from "../../../proto/gen/swamp/v1/auth_service_pb.ts";
import {
  WorkerTokenSchema,
  WorkerTokenState,
} from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import { type TokenChange, TokenExists, WorkerTokenExists } from "../../../runtime/mod.ts";
import { bytes, type Db, type Row } from "./db.ts";

export interface SecretRecord<M> {
  token: M;
  secretHash: string;
}

interface RecordKind<D extends DescMessage> {
  table: "api_tokens" | "worker_tokens";
  schema: D;
  /** A copy without the fields readers compute from the times: those are never kept. */
  stored(token: MessageShape<D>): MessageShape<D>;
  exists(name: string): Error;
}

/** Both kinds are named by their `name` field. */
const nameOf = (token: unknown): string => (token as { name: string }).name;

export class PgSecretRecords<D extends DescMessage> {
  constructor(private readonly db: Db, private readonly kind: RecordKind<D>) {}

  private recordOf(row: Row): SecretRecord<MessageShape<D>> {
    return {
      secretHash: String(row.secret_hash),
      token: fromBinary(this.kind.schema, bytes(row.data)),
    };
  }

  private encode(token: MessageShape<D>): Uint8Array {
    return toBinary(this.kind.schema, this.kind.stored(token));
  }

  async create(record: SecretRecord<MessageShape<D>>): Promise<void> {
    const name = nameOf(record.token);
    const inserted = await this.db.query(
      `INSERT INTO ${this.kind.table} (name, secret_hash, data) VALUES ($1, $2, $3) ` +
        "ON CONFLICT (name) DO NOTHING",
      [name, record.secretHash, this.encode(record.token)],
    );
    if (inserted.rowCount === 0) throw this.kind.exists(name);
  }

  async get(name: string): Promise<SecretRecord<MessageShape<D>> | undefined> {
    const row = (await this.db.rows(
      `SELECT secret_hash, data FROM ${this.kind.table} WHERE name = $1`,
      [name],
    ))[0];
    return row ? this.recordOf(row) : undefined;
  }

  async list(): Promise<SecretRecord<MessageShape<D>>[]> {
    const rows = await this.db.rows(
      `SELECT secret_hash, data FROM ${this.kind.table} ORDER BY name`,
    );
    return rows.map((row) => this.recordOf(row));
  }

  /** Applies `change` to the named record under its row lock; undefined for an unknown name. */
  change<Result>(
    name: string,
    change: (record: SecretRecord<MessageShape<D>>) => TokenChange<Result>,
  ): Promise<Result | undefined> {
    return this.db.tx(async (tx) => {
      const row = (await tx.query(
        `SELECT secret_hash, data FROM ${this.kind.table} WHERE name = $1 FOR UPDATE`,
        [name],
      )).rows[0];
      if (!row) return undefined;
      const record = this.recordOf(row);
      const { result, write } = change(record);
      if (write) {
        await tx.query(`UPDATE ${this.kind.table} SET data = $1 WHERE name = $2`, [
          this.encode(record.token),
          name,
        ]);
      }
      return result;
    });
  }
}

export function apiTokenRecords(db: Db): PgSecretRecords<typeof ApiTokenSchema> {
  return new PgSecretRecords(db, {
    table: "api_tokens",
    schema: ApiTokenSchema,
    // `state` is computed by readers from the times, so it is never kept.
    stored: (token) => ({ ...clone(ApiTokenSchema, token), state: ApiTokenState.UNSPECIFIED }),
    exists: (name) => new TokenExists(name),
  });
}

export function workerTokenRecords(db: Db): PgSecretRecords<typeof WorkerTokenSchema> {
  return new PgSecretRecords(db, {
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
