/// <reference path="./node_sqlite.d.ts" />
// Opening the database: connection settings, then the tables.
import { DatabaseSync } from "node:sqlite";

/**
 * Messages are stored as protobuf binary blobs; the columns beside them are
 * only what queries filter or order on.
 *
 * `runs` is one row per run: its head (last event seq, last log seq, for the
 * conditional writes) and its listing summary with the columns listings use.
 *
 * `data_items` is one row per version of a data item (runtime/ports/data.ts),
 * its attributes and tags as JSON text; `newest` marks each item's newest
 * version, so listings of the newest items walk an index.
 *
 * Every table is created only if missing, so a database made by an older
 * version gains the newer tables (api_tokens, worker_tokens, leases, data_items) the next time
 * it is opened, and `addedColumns` the newer columns of older tables.
 */
const schema = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  last_log_seq INTEGER NOT NULL DEFAULT 0,
  create_ms INTEGER NOT NULL,
  workflow TEXT NOT NULL,
  status INTEGER NOT NULL,
  summary BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs (create_ms, id);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow, create_ms, id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, create_ms, id);
CREATE INDEX IF NOT EXISTS runs_by_workflow_status ON runs (workflow, status, create_ms, id);

CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS snapshots (
  run_id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  data BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS logs (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_step ON logs (run_id, step_id, seq);

CREATE TABLE IF NOT EXISTS locks (
  name TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  since_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS locks_by_run ON locks (run_id);

CREATE TABLE IF NOT EXISTS api_tokens (
  name TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  data BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS worker_tokens (
  name TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  data BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS leases (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  nonce TEXT NOT NULL DEFAULT '',
  attempt INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  expire_ms INTEGER NOT NULL,
  has_written INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (run_id, step_id)
);

CREATE TABLE IF NOT EXISTS data_items (
  model TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  newest INTEGER NOT NULL,
  id TEXT NOT NULL,
  model_type TEXT NOT NULL,
  spec TEXT NOT NULL,
  hash TEXT NOT NULL,
  attributes TEXT NOT NULL,
  tags TEXT NOT NULL,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  lease_id TEXT,
  create_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS data_items_key ON data_items (model, name, version);
CREATE INDEX IF NOT EXISTS data_items_newest ON data_items (newest, model, name);
CREATE INDEX IF NOT EXISTS data_items_by_spec ON data_items (spec, model, name);
CREATE INDEX IF NOT EXISTS data_items_by_run ON data_items (run_id);
`;

/** Columns added to a table after it first shipped: [table, column, its definition]. */
const addedColumns: [string, string, string][] = [
  ["leases", "nonce", "TEXT NOT NULL DEFAULT ''"],
];

function addMissingColumns(db: DatabaseSync): void {
  for (const [table, column, definition] of addedColumns) {
    const present = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all()
      .some((row) => row.name === column);
    if (!present) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/**
 * Where checkpoints are deferred, the size of the write-ahead log (in pages
 * of 4 KiB: 64 MiB) at which a committing connection checkpoints it anyway.
 */
export const deferredCheckpointPages = 16384;

/** Runs `body` in a write transaction that takes the write lock up front. */
export function writeTransaction<T>(db: DatabaseSync, body: () => T): T {
  // BEGIN IMMEDIATE, never a deferred BEGIN: a deferred transaction that reads
  // and then writes fails with "database is locked" when another process
  // wrote in between, and busy_timeout cannot help it.
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (for example after an I/O error).
    }
    throw error;
  }
}

/**
 * A write transaction on disk when it returns, not only in the write-ahead
 * log's page cache (which survives this process, not the machine).
 */
export function durableWriteTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("PRAGMA synchronous = FULL");
  try {
    return writeTransaction(db, body);
  } finally {
    db.exec("PRAGMA synchronous = NORMAL");
  }
}

/**
 * How long an operation first retries with the thread held, for a lock held by
 * another connection (another process, or another thread of this one, as in
 * `swamp serve`). SQLite's own busy wait sleeps 1 ms, then 2, 5, 10…, while
 * such a lock is mostly held for tens of microseconds; these retries wake
 * after 0.05 ms, then twice as long each time, up to 2 ms.
 */
const syncBusyMs = 20;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));
/** How long an operation keeps trying for a lock in all, the event loop free between tries. */
export const lockBudgetMs = 5000;

export function isBusy(error: unknown): boolean {
  return error instanceof Error && /database is (locked|busy)/i.test(error.message);
}

/**
 * Runs `attempt` until it does not fail on another connection's lock, for up
 * to lockBudgetMs. For the first syncBusyMs it retries with the thread held
 * (short pauses, see syncBusyMs); after that the waiting happens between
 * tries with the event loop free, so a signal handler, a server's other calls
 * and its heartbeats run meanwhile. `attempt` must be all-or-nothing (a
 * transaction, or a statement).
 */
export async function whenUnlocked<T>(attempt: () => T): Promise<T> {
  const start = performance.now();
  for (let pause = 0.05; performance.now() - start < syncBusyMs; pause = Math.min(pause * 2, 2)) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
    Atomics.wait(pauseCell, 0, 0, pause);
  }
  for (let pause = 5;; pause = Math.min(pause * 2, 100)) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error) || performance.now() - start > lockBudgetMs) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

export interface DatabaseOptions {
  /**
   * "deferred": this connection leaves checkpoints of the write-ahead log to
   * a thread of their own (wal_checkpoints.ts, decision 0037) and makes one
   * itself only when the log has grown to deferredCheckpointPages, should
   * that thread be missing or behind. "inline" (the default): SQLite's own,
   * in the commit that takes the log past 1,000 pages.
   */
  checkpoints?: "inline" | "deferred";
}

export async function openDatabase(
  path: string,
  options: DatabaseOptions = {},
): Promise<DatabaseSync> {
  const db = new DatabaseSync(path);
  try {
    // No busy wait inside SQLite: whenUnlocked retries, waking sooner than SQLite would.
    db.exec("PRAGMA busy_timeout = 0");
    await whenUnlocked(() => db.exec("PRAGMA journal_mode = WAL"));
    // NORMAL in WAL mode: a commit survives a process crash; only a power
    // loss can drop the last commits, and it never corrupts the database.
    db.exec("PRAGMA synchronous = NORMAL");
    if (options.checkpoints === "deferred") {
      db.exec(`PRAGMA wal_autocheckpoint = ${deferredCheckpointPages}`);
    }
    await whenUnlocked(() =>
      writeTransaction(db, () => {
        db.exec(schema);
        addMissingColumns(db);
      })
    );
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
