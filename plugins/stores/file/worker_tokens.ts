// Worker enrollment tokens as files: worker-tokens/<encoded name>.json, kept
// as secret_records.ts keeps every record guarded by a secret's hash. A bind
// decides under the record's lock, so of two processes binding one token to
// different machines exactly one sees it unbound.
import { clone } from "@bufbuild/protobuf";
import {
  WorkerTokenSchema,
  WorkerTokenState,
} from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  bindWorkerRecord,
  revokeWorkerRecord,
  type StoredWorkerToken,
  type WorkerTokenBinding,
  WorkerTokenExists,
} from "../../../runtime/mod.ts";
import type { Layout } from "./paths.ts";
import { SecretRecordFiles } from "./secret_records.ts";

export class WorkerTokenFiles {
  private readonly records: SecretRecordFiles<typeof WorkerTokenSchema>;

  constructor(layout: Layout, sync: boolean) {
    this.records = new SecretRecordFiles(layout.workerTokens, layout.workerTokenTemp, sync, {
      schema: WorkerTokenSchema,
      // `effectiveState` is computed by readers from the times, so it is never kept.
      stored: (token) => ({
        ...clone(WorkerTokenSchema, token),
        effectiveState: WorkerTokenState.UNSPECIFIED,
      }),
      exists: (name) => new WorkerTokenExists(name),
    });
  }

  create(record: StoredWorkerToken): Promise<void> {
    return this.records.create(record);
  }

  /** Shared with later calls while the file is unchanged: callers must not mutate it. */
  get(name: string): Promise<StoredWorkerToken | undefined> {
    return this.records.get(name);
  }

  list(): Promise<StoredWorkerToken[]> {
    return this.records.list();
  }

  revoke(
    name: string,
    time: Date,
  ): Promise<{ record: StoredWorkerToken; changed: boolean } | undefined> {
    return this.records.update(name, (record) => revokeWorkerRecord(record, time));
  }

  bind(name: string, machineId: string, time: Date): Promise<WorkerTokenBinding | undefined> {
    return this.records.update(name, (record) => bindWorkerRecord(record, machineId, time));
  }
}
