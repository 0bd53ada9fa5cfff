// The schema, as a numbered list of steps. The database records the last
// step applied in `swamp_schema`; opening a store applies the steps after it,
// in one transaction that first takes a transaction-scoped advisory lock, so
// two processes opening a fresh database at once apply each step once. A
// database whose version is above the last step this build knows was
// migrated by a newer swamp: this one refuses it (store_schema_newer) and
// changes nothing. Steps are never edited once released: a change is a new
// step.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import type { Db, Tx } from "./db.ts";

export interface Migration {
  version: number;
  /** What it does, for `swamp store migrate --dry-run`. */
  name: string;
  sql: string;
}

/**
 * Text columns that are keys or sort orders use COLLATE "C": plain byte
 * order, never a locale's, like the file and SQLite stores. Messages are
 * protobuf binary in bytea; the columns beside them are what queries filter
 * and order on. int8 columns hold seqs and epochs (bigint in the runtime) and
 * times in ms since the epoch.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "runs, events, snapshots, logs, locks, tokens, leases and data items",
    sql: `
CREATE TABLE runs (
  id text COLLATE "C" PRIMARY KEY,
  last_seq int8 NOT NULL,
  last_log_seq int8 NOT NULL DEFAULT 0,
  create_ms int8 NOT NULL,
  workflow text COLLATE "C" NOT NULL,
  status int4 NOT NULL,
  summary bytea NOT NULL
);
CREATE INDEX runs_by_created ON runs (create_ms, id);
CREATE INDEX runs_by_workflow ON runs (workflow, create_ms, id);
CREATE INDEX runs_by_status ON runs (status, create_ms, id);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, create_ms, id);

CREATE TABLE events (
  run_id text COLLATE "C" NOT NULL,
  seq int8 NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE snapshots (
  run_id text COLLATE "C" PRIMARY KEY,
  revision int8 NOT NULL,
  data bytea NOT NULL
);

CREATE TABLE logs (
  run_id text COLLATE "C" NOT NULL,
  seq int8 NOT NULL,
  step_id text COLLATE "C" NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX logs_by_step ON logs (run_id, step_id, seq);

CREATE TABLE locks (
  name text COLLATE "C" PRIMARY KEY,
  run_id text COLLATE "C" NOT NULL,
  since_ms int8 NOT NULL
);
CREATE INDEX locks_by_run ON locks (run_id);

CREATE TABLE api_tokens (
  name text COLLATE "C" PRIMARY KEY,
  secret_hash text NOT NULL,
  data bytea NOT NULL
);

CREATE TABLE worker_tokens (
  name text COLLATE "C" PRIMARY KEY,
  secret_hash text NOT NULL,
  data bytea NOT NULL
);

CREATE TABLE leases (
  run_id text COLLATE "C" NOT NULL,
  step_id text COLLATE "C" NOT NULL,
  epoch int8 NOT NULL,
  nonce text NOT NULL,
  attempt int4 NOT NULL,
  worker_id text COLLATE "C" NOT NULL,
  create_ms int8 NOT NULL,
  expire_ms int8 NOT NULL,
  has_written boolean NOT NULL,
  state text NOT NULL,
  PRIMARY KEY (run_id, step_id)
);

CREATE TABLE data_items (
  model text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  version int4 NOT NULL,
  newest boolean NOT NULL,
  id text NOT NULL,
  model_type text NOT NULL,
  spec text COLLATE "C" NOT NULL,
  hash text NOT NULL,
  attributes text NOT NULL,
  tags jsonb NOT NULL,
  run_id text COLLATE "C" NOT NULL,
  step_id text NOT NULL,
  attempt int4 NOT NULL,
  lease_id text,
  create_ms int8 NOT NULL,
  PRIMARY KEY (model, name, version)
);
CREATE INDEX data_items_newest ON data_items (model, name) WHERE newest;
CREATE INDEX data_items_by_spec ON data_items (spec, model, name);
CREATE INDEX data_items_by_run ON data_items (run_id);
`,
  },
  {
    version: 2,
    name: "instances: the swamp serve instances sharing the store, with their heartbeats",
    sql: `
CREATE TABLE instances (
  id text COLLATE "C" PRIMARY KEY,
  host text NOT NULL,
  pid int4 NOT NULL,
  start_time timestamptz NOT NULL,
  heartbeat timestamptz NOT NULL
);
`,
  },
  {
    version: 3,
    name: "instances: released (drained, its runs handed over) and the workers connected to each",
    sql: `
ALTER TABLE instances ADD COLUMN released boolean NOT NULL DEFAULT false;
ALTER TABLE instances ADD COLUMN workers jsonb NOT NULL DEFAULT '[]'::jsonb;
`,
  },
];

/** The newest schema version this build knows. */
export const knownVersion = migrations[migrations.length - 1].version;

/** The advisory lock key every migration takes ('swamp' 'schema' in ASCII, as one int8). */
export const migrationLockKey = 0x7377616d70736368n;

const schemaTable = `CREATE TABLE IF NOT EXISTS swamp_schema (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version int4 NOT NULL,
  applied_ms int8 NOT NULL
)`;

export interface MigrationPlan {
  /** The version the database is at (0: no swamp tables yet). */
  current: number;
  /** The newest this build knows. */
  known: number;
  /** The steps that would be applied, in order. */
  pending: Migration[];
}

function newerError(current: number): SwampError {
  return new SwampError(
    ErrorCode.STORE_SCHEMA_NEWER,
    `the store's schema is version ${current}; this swamp knows up to ${knownVersion}: upgrade swamp`,
    {
      hint:
        "a newer swamp migrated this database; run that version (or newer) here. Nothing was changed",
    },
  );
}

async function currentVersion(tx: Tx): Promise<number> {
  // A plain catalog read, with this statement's snapshot: to_regclass() would go by the
  // session's catalog cache, which taking an advisory lock does not refresh, and miss a
  // table another process just created.
  const exists = await tx.query(
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables " +
      "WHERE schemaname = current_schema() AND tablename = 'swamp_schema') AS present",
  );
  if (!exists.rows[0].present) return 0;
  const row = (await tx.query("SELECT version FROM swamp_schema")).rows[0];
  return row ? Number(row.version) : 0;
}

/** What migrating would do, without changing anything; throws store_schema_newer for a newer database. */
export async function planMigrations(db: Db): Promise<MigrationPlan> {
  const current = await db.tx((tx) => currentVersion(tx), "REPEATABLE READ READ ONLY");
  if (current > knownVersion) throw newerError(current);
  return { current, known: knownVersion, pending: migrations.filter((m) => m.version > current) };
}

/**
 * Applies every pending step under the advisory lock, in one transaction
 * (all of them or none); returns what was applied. A database already at the
 * known version is checked without taking the lock.
 */
export async function migrate(db: Db): Promise<MigrationPlan> {
  const quick = await planMigrations(db);
  if (quick.pending.length === 0) return quick;
  return await db.tx(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
    // Read again under the lock: another process may have migrated meanwhile.
    const current = await currentVersion(tx);
    if (current > knownVersion) throw newerError(current);
    const pending = migrations.filter((m) => m.version > current);
    if (pending.length === 0) return { current, known: knownVersion, pending };
    await tx.query(schemaTable);
    for (const step of pending) await tx.query(step.sql);
    await tx.query(
      "INSERT INTO swamp_schema (one, version, applied_ms) VALUES (true, $1, $2) " +
        "ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version, applied_ms = EXCLUDED.applied_ms",
      [knownVersion, Date.now()],
    );
    return { current, known: knownVersion, pending };
  });
}
