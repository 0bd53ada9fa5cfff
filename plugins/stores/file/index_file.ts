// The run index: one fixed-width text line per run, in the order runs were
// created, so listing reads it backwards from the end and stops after a page.
//
//   <status> <create ms, 13 digits> <workflow hash, 8 hex> <run id, padded to 36>\n
//
// Fixed width means a run's line is found by arithmetic (slot × 64), so its
// status character is updated in place when the status changes, and a page
// cursor is simply a slot number that later runs never shift. The workflow is
// kept as a hash (names can be long); a listing confirms every hit against
// the run's own summary.json, so a collision or a stale status character never
// shows a wrong run.
import { maxRunIdLength } from "./paths.ts";
import { readAt, writeAt } from "./fsio.ts";

export const recordBytes = 64;
// A listing usually stops within the first few hundred lines; a long scan
// reads ever larger chunks so a full pass takes few round trips.
const firstChunkRecords = 256;
const maxChunkRecords = 16384;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface IndexEntry {
  slot: number;
  status: number;
  createMs: number;
  workflowHash: string;
  runId: string;
}

/** FNV-1a over the UTF-8 bytes: short, stable, good enough to pre-filter. */
export function workflowHash(name: string): string {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(name)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

function statusChar(status: number): string {
  if (!Number.isInteger(status) || status < 0 || status > 35) {
    throw new RangeError(`run status ${status} does not fit the index`);
  }
  return status.toString(36);
}

export function encodeRecord(entry: Omit<IndexEntry, "slot">): Uint8Array {
  if (entry.runId.length > maxRunIdLength) throw new RangeError(`run id too long: ${entry.runId}`);
  const ms = String(Math.max(0, Math.floor(entry.createMs))).padStart(13, "0");
  const text = `${statusChar(entry.status)} ${ms} ${entry.workflowHash} ${entry.runId}`;
  return encoder.encode(text.padEnd(recordBytes - 1) + "\n");
}

function decodeRecord(bytes: Uint8Array, slot: number): IndexEntry {
  const text = decoder.decode(bytes);
  return {
    slot,
    status: parseInt(text[0], 36),
    createMs: Number(text.slice(2, 15)),
    workflowHash: text.slice(16, 24),
    runId: text.slice(25, 25 + maxRunIdLength).trimEnd(),
  };
}

/** What a listing asks for, checked on the raw bytes before a line is decoded. */
export interface IndexFilter {
  statuses?: number[];
  workflowHash?: string;
}

function rawMatcher(filter: IndexFilter): (bytes: Uint8Array, at: number) => boolean {
  const statuses = filter.statuses && filter.statuses.length > 0
    ? new Set(
      filter.statuses.filter((s) => Number.isInteger(s) && s >= 0 && s <= 35)
        .map((s) => statusChar(s).charCodeAt(0)),
    )
    : undefined;
  const hash = filter.workflowHash === undefined ? undefined : encoder.encode(filter.workflowHash);
  return (bytes, at) => {
    if (statuses && !statuses.has(bytes[at])) return false;
    if (hash) {
      for (let i = 0; i < hash.length; i++) if (bytes[at + 16 + i] !== hash[i]) return false;
    }
    return true;
  };
}

export class RunIndex {
  constructor(private readonly path: string, private readonly sync: boolean) {}

  /**
   * Adds a run at the next slot under an exclusive lock on the index, so
   * concurrent creators (other processes too) get distinct slots. `check`
   * runs first and may throw to refuse (nothing is written); `commit` runs
   * after the line is written, still under the lock, to publish the run.
   */
  insert(
    entry: Omit<IndexEntry, "slot">,
    check: (slot: number) => void,
    commit: () => void,
  ): number {
    const file = Deno.openSync(this.path, { read: true, write: true, create: true });
    try {
      file.lockSync(true);
      const size = file.statSync().size;
      const slot = Math.floor(size / recordBytes);
      // A crash mid-write leaves a partial line; it belongs to no run.
      if (size % recordBytes !== 0) file.truncateSync(slot * recordBytes);
      check(slot);
      writeAt(file, slot * recordBytes, encodeRecord(entry));
      if (this.sync) file.syncDataSync();
      commit();
      return slot;
    } finally {
      file.close(); // also releases the lock
    }
  }

  /** Rewrites a run's status character in place (the caller holds the run's lock). */
  setStatus(slot: number, runId: string, status: number): void {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.path, { read: true, write: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    try {
      const current = readAt(file, slot * recordBytes, recordBytes);
      if (current.length < recordBytes || decodeRecord(current, slot).runId !== runId) return;
      writeAt(file, slot * recordBytes, encoder.encode(statusChar(status)));
      if (this.sync) file.syncDataSync();
    } finally {
      file.close();
    }
  }

  /**
   * Entries matching `filter` from slot `before - 1` down to 0 (newest
   * first); from the last slot without `before`.
   */
  *newestFirst(filter: IndexFilter, before?: number): Generator<IndexEntry> {
    const matches = rawMatcher(filter);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    try {
      const count = Math.floor(file.statSync().size / recordBytes);
      let next = Math.min(before ?? count, count); // exclusive
      let chunk = firstChunkRecords;
      while (next > 0) {
        const first = Math.max(0, next - chunk);
        const bytes = readAt(file, first * recordBytes, (next - first) * recordBytes);
        for (let slot = next - 1; slot >= first; slot--) {
          const at = (slot - first) * recordBytes;
          if (matches(bytes, at)) yield decodeRecord(bytes.subarray(at, at + recordBytes), slot);
        }
        next = first;
        chunk = Math.min(chunk * 4, maxChunkRecords);
      }
    } finally {
      file.close();
    }
  }
}
