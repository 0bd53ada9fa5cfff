// What was derived from a repository file (a parsed workflow, a model
// definition), kept while the file is unchanged. `swamp serve` loads the
// workflow and model catalogs on every SubmitRun: reading and parsing every
// file each time cost more than the rest of the call, while a stat per file
// says whether anything changed. A version too young to be told apart from
// a later write (file_hash.ts) is used once and not kept.
import { type FileVersion, fileVersion } from "./file_hash.ts";

/** A least-recently-used map of values derived from files, by path and version. */
export class FileMemo<T> {
  #entries = new Map<string, { signature: string; value: T }>();

  constructor(private readonly capacity = 1024) {}

  /**
   * The value `derive` made for the file at `path` when it last had this
   * version, or a new one. A file that cannot be stat'ed is derived afresh
   * each time (derive reports why it cannot be read).
   */
  async get(path: string, derive: () => Promise<T>): Promise<T> {
    let version: FileVersion | undefined;
    try {
      version = fileVersion(path);
    } catch {
      version = undefined;
    }
    const hit = this.#entries.get(path);
    if (hit && hit.signature === version?.signature) {
      this.#entries.delete(path);
      this.#entries.set(path, hit);
      return hit.value;
    }
    // The version was taken before the read: a change during it makes the next call derive again.
    const value = await derive();
    this.#entries.delete(path);
    if (version?.settled) {
      this.#entries.set(path, { signature: version.signature, value });
      if (this.#entries.size > this.capacity) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
    }
    return value;
  }
}

/** Whether two lists hold the same items (by identity) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
