// Run locks: one row per lock name. Taking one is an insert that does nothing
// when the name is held (the primary key decides, across every process);
// the holder is then read back. A holder that releases between the two is
// simply tried again.
import type { LockHolder, LockResult } from "../../../runtime/mod.ts";
import { type Db, num, type Row } from "./db.ts";

function holderOf(row: Row): LockHolder {
  return { name: String(row.name), runId: String(row.run_id), since: num(row.since_ms) };
}

export async function tryAcquireLock(db: Db, name: string, runId: string): Promise<LockResult> {
  for (;;) {
    const inserted = await db.query(
      "INSERT INTO locks (name, run_id, since_ms) VALUES ($1, $2, $3) " +
        "ON CONFLICT (name) DO NOTHING",
      [name, runId, Date.now()],
    );
    if (inserted.rowCount === 1) return { acquired: true };
    const row = (await db.rows("SELECT name, run_id, since_ms FROM locks WHERE name = $1", [
      name,
    ]))[0];
    if (!row) continue; // released in between: try again
    const holder = holderOf(row);
    return holder.runId === runId ? { acquired: true } : { acquired: false, holder };
  }
}

export async function releaseLock(db: Db, name: string, runId: string): Promise<boolean> {
  const deleted = await db.query("DELETE FROM locks WHERE name = $1 AND run_id = $2", [
    name,
    runId,
  ]);
  return (deleted.rowCount ?? 0) > 0;
}

export async function releaseLocks(db: Db, runId: string): Promise<string[]> {
  const rows = await db.rows("DELETE FROM locks WHERE run_id = $1 RETURNING name", [runId]);
  return rows.map((row) => String(row.name)).sort();
}

export async function listLocks(db: Db): Promise<LockHolder[]> {
  return (await db.rows("SELECT name, run_id, since_ms FROM locks ORDER BY name")).map(holderOf);
}
