// API tokens as files: tokens/<encoded name>.json holds
// {"secretHash": hex, "token": <protobuf JSON ApiToken>}.
//
// A token is created by hard-linking a fully written temporary file to its
// name: link() fails when the name exists, so of two creators (in any
// process) exactly one wins and nobody reads a half-written token. A revoke
// rewrites the file (temporary file + rename) under an exclusive flock on
// tokens/.lock, so two revokers cannot both see the token unrevoked.
import { clone, fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import {
  type ApiToken,
  ApiTokenSchema,
  ApiTokenState,
} from "../../../proto/gen/swamp/v1/auth_service_pb.ts";
import { type StoredApiToken, TokenExists } from "../../../runtime/mod.ts";
import {
  promised,
  readTextIfExists,
  removeIfExists,
  syncDir,
  writeFileAtomic,
  writeNewFile,
} from "./fsio.ts";
import type { Layout } from "./paths.ts";
import { DecodedFiles } from "./decoded_files.ts";

const maxEncodedName = 180;

/**
 * A file name for any token name. Long names are cut and suffixed with their
 * hash after "=", a character encodeURIComponent never emits, so a short name
 * can never spell the file name of a long one.
 */
function fileName(name: string): string {
  const encoded = encodeURIComponent(name);
  if (encoded.length <= maxEncodedName) return `${encoded}.json`;
  const hex = createHash("sha256").update(name, "utf8").digest("hex");
  return `${encoded.slice(0, 100)}=${hex}.json`;
}

/** `state` is computed by readers from the times, so it is never kept. */
function withoutState(token: ApiToken): ApiToken {
  const copy = clone(ApiTokenSchema, token);
  copy.state = ApiTokenState.UNSPECIFIED;
  return copy;
}

function encode(record: StoredApiToken): string {
  const token = toJson(ApiTokenSchema, withoutState(record.token));
  return JSON.stringify({ secretHash: record.secretHash, token }) + "\n";
}

function decode(text: string): StoredApiToken {
  const json = JSON.parse(text) as { secretHash: string; token: JsonObject };
  return {
    secretHash: json.secretHash,
    token: fromJson(ApiTokenSchema, json.token, { ignoreUnknownFields: true }),
  };
}

const byName = (a: StoredApiToken, b: StoredApiToken): number =>
  a.token.name < b.token.name ? -1 : a.token.name > b.token.name ? 1 : 0;

export class TokenFiles {
  private readonly decoded = new DecodedFiles<StoredApiToken>();

  constructor(private readonly layout: Layout, private readonly sync: boolean) {}

  private path(name: string): string {
    return `${this.layout.tokens}/${fileName(name)}`;
  }

  // Synchronous file calls, like fsio.ts; the methods stay asynchronous for the port.
  create(record: StoredApiToken): Promise<void> {
    return promised(() => this.createNow(record));
  }

  private createNow(record: StoredApiToken): void {
    const name = record.token.name;
    const temp = `${this.layout.tokenTemp}/${crypto.randomUUID()}.json`;
    writeNewFile(temp, encode(record), this.sync);
    try {
      Deno.linkSync(temp, this.path(name));
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) throw new TokenExists(name);
      throw error;
    } finally {
      removeIfExists(temp);
    }
    if (this.sync) syncDir(this.layout.tokens);
  }

  /** Shared with later calls while the file is unchanged: callers must not mutate it. */
  get(name: string): Promise<StoredApiToken | undefined> {
    return promised(() => this.decoded.get(name, [this.path(name)], () => this.read(name)));
  }

  private read(name: string): StoredApiToken | undefined {
    const text = readTextIfExists(this.path(name));
    const record = text === undefined ? undefined : decode(text);
    // Guards against a file that a differently named token owns (a hashed long name).
    return record?.token.name === name ? record : undefined;
  }

  list(): Promise<StoredApiToken[]> {
    return promised(() => {
      const out: StoredApiToken[] = [];
      for (const entry of Deno.readDirSync(this.layout.tokens)) {
        if (!entry.isFile || !entry.name.endsWith(".json")) continue;
        const text = readTextIfExists(`${this.layout.tokens}/${entry.name}`);
        if (text !== undefined) out.push(decode(text));
      }
      return out.sort(byName);
    });
  }

  revoke(
    name: string,
    time: Date,
  ): Promise<{ record: StoredApiToken; changed: boolean } | undefined> {
    return promised(() => {
      const lock = Deno.openSync(`${this.layout.tokens}/.lock`, {
        read: true,
        write: true,
        create: true,
      });
      try {
        // Held only across synchronous calls, so no other work of this
        // process can interleave and ask for the same lock.
        lock.lockSync(true);
        const record = this.read(name);
        if (!record) return undefined;
        if (record.token.revokeTime) return { record, changed: false };
        record.token.revokeTime = timestampFromDate(time);
        writeFileAtomic(this.path(name), encode(record), this.sync);
        if (this.sync) syncDir(this.layout.tokens);
        return { record, changed: true };
      } finally {
        lock.close(); // also releases the lock
      }
    });
  }
}
