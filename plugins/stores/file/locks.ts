// Named locks as files under locks/, one per held lock, named by the lock's
// URI-encoded name. A lock is a symbolic link whose target is "<runId> <since>":
// symlink() fails if the name exists, so of two processes exactly one wins, and
// the target is written with the link in one step, so nobody ever sees a
// half-written holder. A target this short lives in the inode, so after a
// machine crash the link is there whole or not at all, with no flush: a lock
// lost that way belonged to a run the crash ended (decision record 0006).
//
// A name too long for a file name is hashed, and cannot be read back from the
// file name: such a lock is a regular file holding {name, runId, since}, hard-
// linked from a fully written and flushed temporary file, as every lock was
// before; locks of either kind are read.
import { ErrorCode, sha256HexSync, SwampError } from "../../../runtime/mod.ts";
import type { LockHolder, LockResult } from "../../../runtime/mod.ts";
import { promised, readTextIfExists, removeIfExists, writeNewFile } from "./fsio.ts";
import type { Layout } from "./paths.ts";

const maxEncodedName = 180;

/** A file name for any lock name: URI-encoded, hashed when too long for a file name. */
function fileName(name: string): string {
  const encoded = encodeURIComponent(name);
  if (encoded.length <= maxEncodedName) return `${encoded}.json`;
  const hex = sha256HexSync(name);
  return `${encoded.slice(0, 100)}~${hex}.json`;
}

/** The lock name a file name spells, unless it was hashed. */
function nameOf(file: string): string | undefined {
  return file.includes("~") ? undefined : decodeURIComponent(file.slice(0, -".json".length));
}

/** Who holds the lock at `path` (either kind), or undefined when nobody does. */
function readHolder(path: string, file: string): LockHolder | undefined {
  let target: string;
  try {
    target = Deno.readLinkSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    // Not a symbolic link: a lock written as a file.
    const text = readTextIfExists(path);
    if (text === undefined) return undefined;
    const value = JSON.parse(text) as LockHolder;
    return { name: value.name, runId: value.runId, since: value.since };
  }
  const [runId, since] = target.split(" ");
  return { name: nameOf(file) ?? "", runId, since: Number(since) };
}

export class LockFiles {
  constructor(private readonly layout: Layout, private readonly sync: boolean) {}

  // Synchronous file calls, like fsio.ts; the methods stay asynchronous for the port.
  tryAcquire(name: string, runId: string): Promise<LockResult> {
    return promised(() => this.acquireNow(name, runId));
  }

  private acquireNow(name: string, runId: string): LockResult {
    const file = fileName(name);
    const path = `${this.layout.locks}/${file}`;
    const since = Date.now();
    let temp: string | undefined;
    let take = () => Deno.symlinkSync(`${runId} ${since}`, path);
    if (nameOf(file) === undefined) {
      temp = `${this.layout.lockTemp}/${crypto.randomUUID()}.json`;
      writeNewFile(temp, JSON.stringify({ name, runId, since }) + "\n", this.sync);
      take = () => Deno.linkSync(temp!, path);
    }
    try {
      // Retried because the holder may release between our attempt and our read.
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          take();
          return { acquired: true };
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        }
        const current = readHolder(path, file);
        if (!current) continue;
        if (current.runId === runId) return { acquired: true };
        return { acquired: false, holder: current };
      }
      throw new SwampError(ErrorCode.CONFLICT, `lock ${name} kept changing hands`, {
        hint: "try again",
      });
    } finally {
      if (temp) removeIfExists(temp);
    }
  }

  release(name: string, runId: string): Promise<boolean> {
    return promised(() => this.releaseNow(name, runId));
  }

  private releaseNow(name: string, runId: string): boolean {
    const file = fileName(name);
    const path = `${this.layout.locks}/${file}`;
    const current = readHolder(path, file);
    if (!current || current.runId !== runId) return false;
    removeIfExists(path);
    return true;
  }

  releaseAll(runId: string): Promise<string[]> {
    return promised(() => this.releaseAllNow(runId));
  }

  /** releaseAll, synchronously: for callers already holding a run's lock. */
  releaseAllNow(runId: string): string[] {
    return this.listNow().filter((h) => h.runId === runId && this.releaseNow(h.name, runId))
      .map((h) => h.name);
  }

  list(): Promise<LockHolder[]> {
    return promised(() => this.listNow());
  }

  private listNow(): LockHolder[] {
    const out: LockHolder[] = [];
    for (const entry of Deno.readDirSync(this.layout.locks)) {
      if (!(entry.isFile || entry.isSymlink) || !entry.name.endsWith(".json")) continue;
      const holder = readHolder(`${this.layout.locks}/${entry.name}`, entry.name);
      if (holder) out.push(holder);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
