// The PostgreSQL store plugin's public face: open a store on a DSN (schema
// migrations applied on open), or plan and apply migrations on their own
// (`swamp store migrate`). See docs/reference/stores.md and decision 0025.
import type { RunStore } from "../../../runtime/mod.ts";
import {
  describeTarget,
  openPool,
  parseDsn,
  poolConfig,
  type PostgresOptions,
} from "./connection.ts";
import { Db } from "./db.ts";
import { knownVersion, migrate, type MigrationPlan, planMigrations } from "./migrations.ts";
import { PostgresRunStore } from "./store.ts";

export type { PostgresOptions } from "./connection.ts";
export { describeTarget, parseDsn, passwordFromDsnError } from "./connection.ts";
export type { Migration, MigrationPlan } from "./migrations.ts";
export { knownVersion };

/**
 * Opens the store on `options.dsn` (or a bare DSN string): checks the
 * schema, applies pending migrations (unless `migrate: false`), and returns
 * a store whose close() ends its connections. A DSN with a password is
 * refused; an unreachable database is a store_unreachable error naming the
 * host or socket, database and user.
 */
export async function openPostgresStore(options: PostgresOptions | string): Promise<RunStore> {
  const opts = typeof options === "string" ? { dsn: options } : options;
  const db = connect(opts);
  try {
    if (opts.migrate === false) await planMigrations(db);
    else await migrate(db);
  } catch (error) {
    await db.end();
    throw error;
  }
  return new PostgresRunStore(db, opts.spoolDir, () => poolConfig(db.target, opts));
}

/** What `swamp store migrate` would apply (dryRun) or applied, and where. */
export async function migratePostgres(
  options: PostgresOptions,
  dryRun: boolean,
): Promise<MigrationPlan & { target: string }> {
  const db = connect(options);
  try {
    const plan = dryRun ? await planMigrations(db) : await migrate(db);
    return { ...plan, target: describeTarget(db.target) };
  } finally {
    await db.end();
  }
}

function connect(options: PostgresOptions): Db {
  const target = parseDsn(options.dsn);
  return new Db(openPool(target, options), target);
}
