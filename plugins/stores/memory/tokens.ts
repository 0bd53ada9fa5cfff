// API tokens and worker enrollment tokens in memory, by name, each beside
// the hash of its secret. Kept as protobuf binary without the fields readers
// compute from the times, as the other stores keep them.
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
import {
  bindWorkerRecord,
  changeTokenRecord,
  revokeApiRecord,
  revokeWorkerRecord,
  type StoredApiToken,
  type StoredWorkerToken,
  TokenExists,
  type WorkerTokenBinding,
  WorkerTokenExists,
} from "../../../runtime/mod.ts";

interface Kind<D extends DescMessage> {
  schema: D;
  stored(token: MessageShape<D>): MessageShape<D>;
  exists(name: string): Error;
}

/** Both kinds are named by their `name` field. */
const nameOf = (token: unknown): string => (token as { name: string }).name;

class Records<D extends DescMessage> {
  readonly #byName = new Map<string, { secretHash: string; data: Uint8Array }>();

  constructor(private readonly kind: Kind<D>) {}

  create(record: { token: MessageShape<D>; secretHash: string }): void {
    const name = nameOf(record.token);
    if (this.#byName.has(name)) throw this.kind.exists(name);
    this.#byName.set(name, { secretHash: record.secretHash, data: this.#encode(record.token) });
  }

  get(name: string): { token: MessageShape<D>; secretHash: string } | undefined {
    const row = this.#byName.get(name);
    return row && { secretHash: row.secretHash, token: fromBinary(this.kind.schema, row.data) };
  }

  list(): { token: MessageShape<D>; secretHash: string }[] {
    return [...this.#byName.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
      .map((name) => this.get(name)!);
  }

  put(token: MessageShape<D>): void {
    const row = this.#byName.get(nameOf(token))!;
    row.data = this.#encode(token);
  }

  #encode(token: MessageShape<D>): Uint8Array {
    return toBinary(this.kind.schema, this.kind.stored(token));
  }
}

export class MemoryTokens {
  readonly #api = new Records({
    schema: ApiTokenSchema,
    stored: (token) => ({ ...clone(ApiTokenSchema, token), state: ApiTokenState.UNSPECIFIED }),
    exists: (name) => new TokenExists(name),
  });
  readonly #worker = new Records({
    schema: WorkerTokenSchema,
    stored: (token) => ({
      ...clone(WorkerTokenSchema, token),
      effectiveState: WorkerTokenState.UNSPECIFIED,
    }),
    exists: (name) => new WorkerTokenExists(name),
  });

  createApi(record: StoredApiToken): void {
    this.#api.create(record);
  }
  getApi(name: string): StoredApiToken | undefined {
    return this.#api.get(name);
  }
  listApi(): StoredApiToken[] {
    return this.#api.list();
  }
  revokeApi(name: string, time: Date): { record: StoredApiToken; changed: boolean } | undefined {
    return changeTokenRecord(this.#api, name, (record) => revokeApiRecord(record, time));
  }

  createWorker(record: StoredWorkerToken): void {
    this.#worker.create(record);
  }
  getWorker(name: string): StoredWorkerToken | undefined {
    return this.#worker.get(name);
  }
  listWorker(): StoredWorkerToken[] {
    return this.#worker.list();
  }
  revokeWorker(
    name: string,
    time: Date,
  ): { record: StoredWorkerToken; changed: boolean } | undefined {
    return changeTokenRecord(this.#worker, name, (record) => revokeWorkerRecord(record, time));
  }
  bindWorker(name: string, machineId: string, time: Date): WorkerTokenBinding | undefined {
    return changeTokenRecord(
      this.#worker,
      name,
      (record) => bindWorkerRecord(record, machineId, time),
    );
  }
}
