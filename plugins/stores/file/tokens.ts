// API tokens as files: tokens/<encoded name>.json, kept as secret_records.ts
// keeps every record guarded by a secret's hash.
import { clone } from "@bufbuild/protobuf";
import { ApiTokenSchema, ApiTokenState } from "../../../proto/gen/swamp/v1/auth_service_pb.ts";
import { revokeApiRecord, type StoredApiToken, TokenExists } from "../../../runtime/mod.ts";
import type { Layout } from "./paths.ts";
import { SecretRecordFiles } from "./secret_records.ts";

export class TokenFiles {
  private readonly records: SecretRecordFiles<typeof ApiTokenSchema>;

  constructor(layout: Layout, sync: boolean) {
    this.records = new SecretRecordFiles(layout.tokens, layout.tokenTemp, sync, {
      schema: ApiTokenSchema,
      // `state` is computed by readers from the times, so it is never kept.
      stored: (token) => ({ ...clone(ApiTokenSchema, token), state: ApiTokenState.UNSPECIFIED }),
      exists: (name) => new TokenExists(name),
    });
  }

  create(record: StoredApiToken): Promise<void> {
    return this.records.create(record);
  }

  /** Shared with later calls while the file is unchanged: callers must not mutate it. */
  get(name: string): Promise<StoredApiToken | undefined> {
    return this.records.get(name);
  }

  list(): Promise<StoredApiToken[]> {
    return this.records.list();
  }

  revoke(
    name: string,
    time: Date,
  ): Promise<{ record: StoredApiToken; changed: boolean } | undefined> {
    return this.records.update(name, (record) => revokeApiRecord(record, time));
  }
}
