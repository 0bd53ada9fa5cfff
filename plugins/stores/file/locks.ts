// Named locks as files: locks/<encoded name>.json holds {name, runId, since}.
// A lock is taken by hard-linking a fully written temporary file to its name:
// link() fails if the name exists, so of two processes exactly one wins, and
// nobody ever sees a half-written holder.
import type { LockHolder, LockResult } from "../../../runtime/mod.ts";
import { readTextIfExists, removeIfExists, writeNewFile } from "./fsio.ts";
import type { Layout } from "./paths.ts";

const maxEncodedName = 180;

/** A file name for any lock name: URI-encoded, hashed when too long for a file name. */
async function fileName(name: string): Promise<string> {
  const encoded = encodeURIComponent(name);
  if (encoded.length <= maxEncodedName) return `${encoded}.json`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${encoded.slice(0, 100)}~${hex}.json`;
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as LockHolder;
  return { name: value.name, runId: value.runId, since: value.since };
}

export class LockFiles {
  constructor(private readonly layout: Layout, private readonly sync: boolean) {}

  private async path(name: string): Promise<string> {
    return `${this.layout.locks}/${await fileName(name)}`;
  }

  async tryAcquire(name: string, runId: string): Promise<LockResult> {
    const path = await this.path(name);
    const holder: LockHolder = { name, runId, since: Date.now() };
    const temp = `${this.layout.lockTemp}/${crypto.randomUUID()}.json`;
    await writeNewFile(temp, JSON.stringify(holder) + "\n", this.sync);
    try {
      // Retried because the holder may release between our link and our read.
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          await Deno.link(temp, path);
          return { acquired: true };
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        }
        const current = parseHolder(await readTextIfExists(path));
        if (!current) continue;
        if (current.runId === runId) return { acquired: true };
        return { acquired: false, holder: current };
      }
      throw new Error(`lock ${name} kept changing hands; try again`);
    } finally {
      await removeIfExists(temp);
    }
  }

  async release(name: string, runId: string): Promise<boolean> {
    const path = await this.path(name);
    const current = parseHolder(await readTextIfExists(path));
    if (!current || current.runId !== runId) return false;
    await removeIfExists(path);
    return true;
  }

  async releaseAll(runId: string): Promise<string[]> {
    const released: string[] = [];
    for (const holder of await this.list()) {
      if (holder.runId === runId && await this.release(holder.name, runId)) {
        released.push(holder.name);
      }
    }
    return released;
  }

  async list(): Promise<LockHolder[]> {
    const out: LockHolder[] = [];
    for await (const entry of Deno.readDir(this.layout.locks)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const holder = parseHolder(await readTextIfExists(`${this.layout.locks}/${entry.name}`));
      if (holder) out.push(holder);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
