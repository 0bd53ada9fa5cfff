// Records kept by name beside the hash of a secret (API tokens, worker
// enrollment tokens): <dir>/<encoded name>.json holds
// {"secretHash": hex, "token": <protobuf JSON>}.
//
// A record is created by hard-linking a fully written temporary file to its
// name: link() fails when the name exists, so of two creators (in any
// process) exactly one wins and nobody reads a half-written record. Every
// change after that is a read, a decision and a rewrite (temporary file +
// rename) under an exclusive flock on <dir>/.lock, so two processes cannot
// both decide from the same old record.
import {
  type DescMessage,
  fromJson,
  type JsonObject,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import { DecodedFiles } from "./decoded_files.ts";
import {
  promised,
  readTextIfExists,
  removeIfExists,
  syncDir,
  writeFileAtomic,
  writeNewFile,
} from "./fsio.ts";
import { encodedFileName } from "./paths.ts";

export interface SecretRecord<M> {
  token: M;
  secretHash: string;
}

/** What differs between the kinds of records. */
export interface RecordKind<D extends DescMessage> {
  schema: D;
  /** A copy without the fields readers compute from the times: those are never kept. */
  stored(token: MessageShape<D>): MessageShape<D>;
  /** The error for a name that is taken. */
  exists(name: string): Error;
}

/** A change decided under the lock: its result, and whether the record must be rewritten. */
export interface Decision<T> {
  result: T;
  write: boolean;
}

/** Both kinds are named by their `name` field. */
function nameOf(token: unknown): string {
  return (token as { name: string }).name;
}

export class SecretRecordFiles<D extends DescMessage> {
  private readonly decoded = new DecodedFiles<SecretRecord<MessageShape<D>>>();

  constructor(
    private readonly dir: string,
    private readonly tempDir: string,
    private readonly sync: boolean,
    private readonly kind: RecordKind<D>,
  ) {}

  private path(name: string): string {
    return `${this.dir}/${encodedFileName(name)}`;
  }

  private encode(record: SecretRecord<MessageShape<D>>): string {
    const token = toJson(this.kind.schema, this.kind.stored(record.token));
    return JSON.stringify({ secretHash: record.secretHash, token }) + "\n";
  }

  private decode(text: string): SecretRecord<MessageShape<D>> {
    const json = JSON.parse(text) as { secretHash: string; token: JsonObject };
    const token = fromJson(this.kind.schema, json.token, { ignoreUnknownFields: true });
    return { secretHash: json.secretHash, token };
  }

  // Synchronous file calls, like fsio.ts; the methods stay asynchronous for the port.
  create(record: SecretRecord<MessageShape<D>>): Promise<void> {
    return promised(() => {
      const name = nameOf(record.token);
      const temp = `${this.tempDir}/${crypto.randomUUID()}.json`;
      writeNewFile(temp, this.encode(record), this.sync);
      try {
        Deno.linkSync(temp, this.path(name));
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) throw this.kind.exists(name);
        throw error;
      } finally {
        removeIfExists(temp);
      }
      if (this.sync) syncDir(this.dir);
    });
  }

  /** Shared with later calls while the file is unchanged: callers must not mutate it. */
  get(name: string): Promise<SecretRecord<MessageShape<D>> | undefined> {
    return promised(() => this.decoded.get(name, [this.path(name)], () => this.read(name)));
  }

  /** A fresh copy, for changing. */
  private read(name: string): SecretRecord<MessageShape<D>> | undefined {
    const text = readTextIfExists(this.path(name));
    const record = text === undefined ? undefined : this.decode(text);
    // Guards against a file that a differently named record owns (a hashed long name).
    return record && nameOf(record.token) === name ? record : undefined;
  }

  /** Every record, ordered by name. */
  list(): Promise<SecretRecord<MessageShape<D>>[]> {
    return promised(() => {
      const out: SecretRecord<MessageShape<D>>[] = [];
      for (const entry of Deno.readDirSync(this.dir)) {
        if (!entry.isFile || !entry.name.endsWith(".json")) continue;
        const text = readTextIfExists(`${this.dir}/${entry.name}`);
        if (text !== undefined) out.push(this.decode(text));
      }
      const key = (record: SecretRecord<MessageShape<D>>) => nameOf(record.token);
      return out.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
    });
  }

  /** Reads the record, decides, and rewrites it when asked, all under the exclusive lock. */
  update<T>(
    name: string,
    decide: (record: SecretRecord<MessageShape<D>>) => Decision<T>,
  ): Promise<T | undefined> {
    return promised(() => {
      const lock = Deno.openSync(`${this.dir}/.lock`, { read: true, write: true, create: true });
      try {
        // Held only across synchronous calls, so no other work of this
        // process can interleave and ask for the same lock.
        lock.lockSync(true);
        const record = this.read(name);
        if (!record) return undefined;
        const { result, write } = decide(record);
        if (write) {
          writeFileAtomic(this.path(name), this.encode(record), this.sync);
          if (this.sync) syncDir(this.dir);
        }
        return result;
      } finally {
        lock.close(); // also releases the lock
      }
    });
  }
}
