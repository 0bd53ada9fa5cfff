/// <reference path="./node_sqlite.d.ts" />
// Checkpoints of a SQLite store's write-ahead log made by a connection of
// their own, on a thread that does nothing else (decision 0037). SQLite's own
// checkpoint runs inside the commit that takes the log past 1,000 pages and
// syncs the database file there: a server's run thread waited on that sync
// every few runs. Connections opened with `checkpoints: "deferred"` leave it
// to this loop.
import { DatabaseSync } from "node:sqlite";
import { deferredCheckpointPages, isBusy } from "./schema.ts";

export interface WalCheckpointOptions {
  /** Pause between two checkpoints (default 200 ms). */
  everyMs?: number;
  /**
   * A writer starts the log over only when it finds every frame checkpointed;
   * under steady writes a checkpoint never catches up with them, and the log
   * grows. At this length (in pages) a RESTART checkpoint follows the
   * PASSIVE one: it holds new writes back for the few frames written
   * meanwhile and a sync, and the next write starts the log over (default:
   * a quarter of deferredCheckpointPages, where writers would checkpoint
   * themselves, all of it inside their commit).
   */
  restartAtPages?: number;
  /** How long a RESTART checkpoint waits for readers and writers to step aside (default 2 s). */
  restartWaitMs?: number;
  /**
   * A checkpoint that failed; reported once until one succeeds again. A
   * database busy for a moment (another connection recovering the log, say)
   * is reported only when it stays busy for `busyRounds` checkpoints in a row.
   */
  onError?(error: unknown): void;
  /** Checkpoints in a row that found the database busy before that is reported (default 50). */
  busyRounds?: number;
}

export interface WalCheckpoints {
  /** Stops the loop and closes its connection. */
  stop(): void;
  /** Checkpoints made so far, and rounds that failed (busy or not), for tests and diagnostics. */
  counts(): CheckpointCounts;
}

export interface CheckpointCounts {
  passive: number;
  restart: number;
  failed: number;
}

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Checkpoints the database at `path` every `everyMs` until stopped. Each
 * checkpoint syncs the files on this thread: call it from a thread of its own.
 */
export function checkpointEvery(path: string, options: WalCheckpointOptions = {}): WalCheckpoints {
  const everyMs = options.everyMs ?? 200;
  const restartAtPages = options.restartAtPages ?? deferredCheckpointPages / 4;
  const restartWaitMs = options.restartWaitMs ?? 2000;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 0");
  const counts: CheckpointCounts = { passive: 0, restart: 0, failed: 0 };
  const busyRounds = options.busyRounds ?? 50;
  let failing = false;
  let busy = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  // Each checkpoint reads the database's header: prepared at the first tick, so that a
  // database that cannot be read yet fails there (and is reported) rather than here.
  const run = (mode: "PASSIVE" | "RESTART") =>
    db.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as unknown as CheckpointRow;
  const checkpoint = () => {
    const row = run("PASSIVE");
    if (row.busy === 0) counts.passive++;
    if (row.log < restartAtPages) return;
    db.exec(`PRAGMA busy_timeout = ${restartWaitMs}`);
    try {
      if (run("RESTART").busy === 0) counts.restart++;
    } finally {
      db.exec("PRAGMA busy_timeout = 0");
    }
  };
  const tick = () => {
    if (stopped) return;
    try {
      checkpoint();
      failing = false;
      busy = 0;
    } catch (error) {
      // Told once per streak of failures; a busy database only once it stays so.
      counts.failed++;
      if (!failing && (!isBusy(error) || ++busy >= busyRounds)) {
        options.onError?.(error);
        failing = true;
      }
    }
    timer = setTimeout(tick, everyMs);
  };
  timer = setTimeout(tick, everyMs);

  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      db.close();
    },
    counts: () => ({ ...counts }),
  };
}
