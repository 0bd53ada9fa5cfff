// The `instances` table (decision 0027): one row per `swamp serve` instance,
// its heartbeat written every second. Ages are computed by the database's
// clock, so the instances' own clocks are never compared. A drained instance
// that handed its runs over is `released` (decision 0030).
import type { InstanceInfo, InstanceRegistry, PeerWorker } from "../../../runtime/mod.ts";
import { type Db, num } from "./db.ts";

export function pgInstances(db: Db): InstanceRegistry {
  return {
    async register({ id, host, pid }) {
      await db.query(
        "INSERT INTO instances (id, host, pid, start_time, heartbeat) " +
          "VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp()) " +
          "ON CONFLICT (id) DO UPDATE SET heartbeat = clock_timestamp(), released = false",
        [id, host, pid],
      );
    },
    async heartbeat(id) {
      const result = await db.query(
        "UPDATE instances SET heartbeat = clock_timestamp() WHERE id = $1",
        [id],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async release(id) {
      await db.query(
        "UPDATE instances SET released = true, heartbeat = clock_timestamp() WHERE id = $1",
        [id],
      );
    },
    async publishWorkers(id, workers) {
      await db.query("UPDATE instances SET workers = $2::jsonb WHERE id = $1", [
        id,
        JSON.stringify(workers),
      ]);
    },
    async remove(id) {
      await db.query("DELETE FROM instances WHERE id = $1", [id]);
    },
    async list(): Promise<InstanceInfo[]> {
      const rows = await db.rows(
        "SELECT id, host, pid, released, workers, (extract(epoch FROM start_time) * 1000)::int8 AS start_ms, " +
          "(extract(epoch FROM clock_timestamp() - heartbeat) * 1000)::int8 AS age_ms " +
          "FROM instances ORDER BY id",
      );
      return rows.map((row) => ({
        id: String(row.id),
        host: String(row.host),
        pid: Number(row.pid),
        startTime: new Date(num(row.start_ms)),
        ageMs: num(row.age_ms),
        released: row.released === true,
        workers: Array.isArray(row.workers) ? row.workers as PeerWorker[] : [],
      }));
    },
  };
}
