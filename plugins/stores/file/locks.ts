// Named locks as files: locks/<encoded name>.json holds {name, runId, since}.
// A lock is taken by hard-linking a fully written temporary file to its name:
// link() fails if the name exists, so of two processes exactly one wins, and
// nobody ever sees a half-written holder.
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

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as LockHolder;
  return { name: value.name, runId: value.runId, since: value.since };
}

export class LockFiles {
  constructor(private readonly layout: Layout, private readonly sync: boolean) {}

  private path(name: string): string {
    return `${this.layout.locks}/${fileName(name)}`;
  }

  // Synchronous file calls, like fsio.ts; the methods stay asynchronous for the port.
  tryAcquire(name: string, runId: string): Promise<LockResult> {
    return promised(() => this.acquireNow(name, runId));
  }

  private acquireNow(name: string, runId: string): LockResult {
    const path = this.path(name);
    const holder: LockHolder = { name, runId, since: Date.now() };
    const temp = `${this.layout.lockTemp}/${crypto.randomUUID()}.json`;
    writeNewFile(temp, JSON.stringify(holder) + "\n", this.sync);
    try {
      // Retried because the holder may release between our link and our read.
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          Deno.linkSync(temp, path);
          return { acquired: true };
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        }
        const current = parseHolder(readTextIfExists(path));
        if (!current) continue;
        if (current.runId === runId) return { acquired: true };
        return { acquired: false, holder: current };
      }
      throw new SwampError(ErrorCode.CONFLICT, `lock ${name} kept changing hands`, {
        hint: "try again",
      });
    } finally {
      removeIfExists(temp);
    }
  }

  release(name: string, runId: string): Promise<boolean> {
    return promised(() => this.releaseNow(name, runId));
  }

  private releaseNow(name: string, runId: string): boolean {
    const path = this.path(name);
    const current = parseHolder(readTextIfExists(path));
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
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const holder = parseHolder(readTextIfExists(`${this.layout.locks}/${entry.name}`));
      if (holder) out.push(holder);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
