import type { ApiToken } from "../../proto/gen/swamp/v1/auth_service_pb.ts";

/**
 * An API token as a store keeps it: its public description and the SHA-256
 * of its secret (lower-case hex). The secret itself is never stored.
 * `token.state` is not stored; readers compute it from the times.
 */
export interface StoredApiToken {
  token: ApiToken;
  secretHash: string;
}

/**
 * Where `swamp serve` and `swamp auth token` keep API tokens. Names are unique
 * per repository. Every method is a single atomic operation, safe when several
 * processes use the same store.
 */
export interface TokenStore {
  /** Stores a new token; throws TokenExists when the name is taken (revoked tokens keep their name). */
  createApiToken(record: StoredApiToken): Promise<void>;
  /** The token of that name, or undefined. Read-only: a store may share it with later calls. */
  getApiToken(name: string): Promise<StoredApiToken | undefined>;
  /** Every token, ordered by name. */
  listApiTokens(): Promise<StoredApiToken[]>;
  /**
   * Sets the token's revoke time to `time` unless it is already revoked.
   * Returns the record after the call and whether it changed; undefined for an unknown name.
   */
  revokeApiToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredApiToken; changed: boolean } | undefined>;
}

/** A token of that name already exists. */
export class TokenExists extends Error {
  constructor(readonly tokenName: string) {
    super(`a token named ${tokenName} already exists`);
    this.name = "TokenExists";
  }
}
