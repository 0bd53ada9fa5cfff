// One run's leases as an append-only log, leases/<run>.jsonl: one encoded
// lease per line, a step's last line its newest lease (decision 0035). A
// change is one line appended under the store's lease lock, instead of a new
// file renamed over the step's old one: no inode is made or freed on a remote
// step's way to its worker. Readers take no lock: a line being appended is
// not whole yet (no newline), so it is not read, and a reader sees the
// lease as it was.
//
// What this process has read of each log is kept by inode and size, so a read
// costs a stat and, when another process appended, only the new bytes. A log
// whose lines outnumber its steps' leases four to one (renewals of long steps)
// is rewritten with one line per step, by rename: a reader that had the old
// inode reads the new file whole.
import type { Lease } from "../../../runtime/mod.ts";
import { readAt, syncDir, writeAt, writeFileAtomic } from "./fsio.ts";

/** What has been read of one log. */
interface LogState {
  ino: number | null;
  /** Bytes read: up to the end of the last whole line. */
  size: number;
  lines: number;
  /** The newest lease of each step, by step id. */
  leases: Map<string, Lease>;
}

/** Logs whose leases are kept in memory at most; the least recently read go first. */
const cachedLogs = 1024;
/** A log is rewritten once it has more lines than this and four times its steps. */
const compactAbove = 64;
const newline = 0x0a;

export class LeaseLogs {
  readonly #states = new Map<string, LogState>();

  /**
   * `encode` turns a lease into its line, `decode` a line into a lease (it may
   * throw: a line a crash cut short is skipped).
   */
  constructor(
    private readonly encode: (lease: Lease) => string,
    private readonly decode: (line: string) => Lease,
    /** Whether the store flushes at all (a compaction then always does: it replaces flushed lines). */
    private readonly sync: boolean,
  ) {}

  /** The newest lease of each step in the log at `path` (none when there is no log). */
  leases(path: string): ReadonlyMap<string, Lease> {
    return this.#read(path).leases;
  }

  /**
   * Appends `lease` as its step's newest. Only under the lease lock: with no
   * writer but this one, bytes past the last whole line are what a crash
   * left of an append, and are cut off first. `durable`: on disk (the line
   * and every one before it) before this returns, when the store flushes.
   */
  append(path: string, lease: Lease, durable: boolean): void {
    const state = this.#read(path);
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    try {
      const info = file.statSync();
      const created = state.ino !== info.ino;
      if (created) Object.assign(state, { ino: info.ino, size: 0, lines: 0 });
      if (info.size > state.size) file.truncateSync(state.size);
      const bytes = new TextEncoder().encode(this.encode(lease));
      writeAt(file, state.size, bytes);
      const flush = durable && this.sync;
      if (flush) file.syncDataSync();
      state.size += bytes.length;
      state.lines += 1;
      state.leases.set(lease.stepId, lease);
      if (created && flush) syncDir(parentOf(path));
    } finally {
      file.close();
    }
    this.#keep(path, state);
    if (state.lines > compactAbove && state.lines > 4 * state.leases.size) {
      this.#compact(path, state);
    }
  }

  /** Forgets the log at `path` (deleted with its run). */
  forget(path: string): void {
    this.#states.delete(path);
  }

  /** Rewrites the log with one line per step. Only under the lease lock. */
  #compact(path: string, state: LogState): void {
    const text = [...state.leases.values()].map((lease) => this.encode(lease)).join("");
    writeFileAtomic(path, text, this.sync);
    if (this.sync) syncDir(parentOf(path));
    const info = Deno.statSync(path); // nobody else replaces it: this runs under the lease lock
    Object.assign(state, {
      ino: info.ino,
      size: info.size,
      lines: state.leases.size,
    });
  }

  /** The log as it is now: what is known of it, and whatever was appended since. */
  #read(path: string): LogState {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      this.#states.delete(path);
      return { ino: null, size: 0, lines: 0, leases: new Map() };
    }
    const known = this.#states.get(path);
    if (known && known.ino === info.ino && known.size === info.size) return this.#keep(path, known);
    // Read from the descriptor, whose inode cannot change under it as the path's can.
    const file = Deno.openSync(path, { read: true });
    try {
      const now = file.statSync();
      const state = known && known.ino === now.ino && known.size <= now.size
        ? known
        : { ino: now.ino, size: 0, lines: 0, leases: new Map<string, Lease>() };
      if (now.size > state.size) this.#take(state, readAt(file, state.size, now.size - state.size));
      return this.#keep(path, state);
    } finally {
      file.close();
    }
  }

  /** Applies the whole lines of `bytes` (read from state.size on) to `state`. */
  #take(state: LogState, bytes: Uint8Array): void {
    const decoder = new TextDecoder();
    let start = 0;
    for (let end = bytes.indexOf(newline); end >= 0; end = bytes.indexOf(newline, start)) {
      const line = decoder.decode(bytes.subarray(start, end));
      start = end + 1;
      state.lines += 1;
      let lease: Lease;
      try {
        lease = this.decode(line);
      } catch {
        continue; // a line a machine crash cut short, with an append after it
      }
      state.leases.set(lease.stepId, lease);
    }
    state.size += start;
  }

  #keep(path: string, state: LogState): LogState {
    this.#states.delete(path);
    this.#states.set(path, state);
    if (this.#states.size > cachedLogs) this.#states.delete(this.#states.keys().next().value!);
    return state;
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}
