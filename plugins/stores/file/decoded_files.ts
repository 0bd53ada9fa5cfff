// Decoded files, remembered while they are unchanged. `swamp serve` loads a
// run (and the caller's token) on every GetRun and watch; re-reading and
// re-decoding the files each time cost more than the rest of the call. Stats
// decide whether what was decoded still holds: snapshots and tokens are
// replaced by rename (a new inode and change time) and event logs only grow,
// so any write changes a file's stat signature, whichever process made it
// (runtime/repo/file_hash.ts: versions younger than the clock's tick are not kept).
import { type FileVersion, fileVersion } from "../../../runtime/mod.ts";

/** How many entries stay decoded; the least recently used go first. */
const CAPACITY = 256;

function version(path: string): FileVersion {
  try {
    return fileVersion(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { signature: "-", settled: true };
    throw error;
  }
}

export class DecodedFiles<T> {
  #entries = new Map<string, { key: string; value: T }>();

  /**
   * What `load` decodes from `files`, or what it decoded before when no file
   * changed since. The value is shared: callers must not mutate it.
   */
  get(id: string, files: readonly string[], load: () => T | undefined): T | undefined {
    const versions = files.map(version);
    const key = versions.map((v) => v.signature).join("|");
    const hit = this.#entries.get(id);
    this.#entries.delete(id);
    if (hit && hit.key === key) {
      this.#entries.set(id, hit);
      return hit.value;
    }
    const value = load();
    // A key taken before the read is at worst older than what was read: the next call re-reads.
    if (value !== undefined && versions.every((v) => v.settled)) {
      this.#entries.set(id, { key, value });
    }
    if (this.#entries.size > CAPACITY) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }
}
