// Leases: one row per step, its newest lease (runtime/ports/leases.ts). An
// acquire is one upsert that raises the step's epoch under the row's lock, so
// two processes taking a lease of one step get distinct epochs and the later
// one stays. Every other change is one UPDATE naming the whole lease id
// (epoch and nonce), so it never touches a newer lease.
import {
  type AcquireLease,
  type Lease,
  leaseId,
  newLeaseNonce,
  parseLeaseId,
} from "../../../runtime/mod.ts";
import { big, type Db, num, type Row } from "./db.ts";

const columns =
  "run_id, step_id, epoch, nonce, attempt, worker_id, create_ms, expire_ms, has_written, state";

function leaseOf(row: Row): Lease {
  const runId = String(row.run_id);
  const stepId = String(row.step_id);
  const epoch = big(row.epoch);
  return {
    id: leaseId(runId, stepId, epoch, String(row.nonce)),
    runId,
    stepId,
    attempt: num(row.attempt),
    epoch,
    workerId: String(row.worker_id),
    createTime: new Date(num(row.create_ms)),
    expireTime: new Date(num(row.expire_ms)),
    hasWritten: row.has_written === true,
    state: String(row.state) as Lease["state"],
  };
}

/** The WHERE clause (from parameter `from`) that matches exactly the lease `id` names. */
function whose(id: string, from: number): { clause: string; values: unknown[] } | undefined {
  const parts = parseLeaseId(id);
  if (!parts) return undefined;
  return {
    clause: `run_id = $${from} AND step_id = $${from + 1} AND epoch = $${from + 2} ` +
      `AND nonce = $${from + 3}`,
    values: [parts.runId, parts.stepId, parts.epoch, parts.nonce],
  };
}

export class PgLeases {
  constructor(private readonly db: Db) {}

  async acquire(request: AcquireLease): Promise<Lease> {
    const nonce = newLeaseNonce();
    const row = (await this.db.rows(
      `INSERT INTO leases (${columns}) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, false, 'active') ` +
        "ON CONFLICT (run_id, step_id) DO UPDATE SET epoch = leases.epoch + 1, " +
        "nonce = EXCLUDED.nonce, attempt = EXCLUDED.attempt, worker_id = EXCLUDED.worker_id, " +
        "create_ms = EXCLUDED.create_ms, expire_ms = EXCLUDED.expire_ms, has_written = false, " +
        `state = 'active' RETURNING ${columns}`,
      [
        request.runId,
        request.stepId,
        nonce,
        request.attempt,
        request.workerId,
        request.now.getTime(),
        request.expireTime.getTime(),
      ],
    ))[0];
    return leaseOf(row);
  }

  async current(id: string): Promise<Lease | undefined> {
    const parts = parseLeaseId(id);
    if (!parts) return undefined;
    const row = (await this.db.rows(
      `SELECT ${columns} FROM leases WHERE run_id = $1 AND step_id = $2`,
      [parts.runId, parts.stepId],
    ))[0];
    const lease = row ? leaseOf(row) : undefined;
    // The whole id, nonce included: a lease lost in a crash may share its epoch with a newer one.
    return lease?.id === id ? lease : undefined;
  }

  async renew(workerId: string, ids: readonly string[], expireTime: Date): Promise<string[]> {
    const keys = ids.map((id) => parseLeaseId(id)).filter((parts) => parts !== undefined);
    if (keys.length === 0) return [];
    const rows = await this.db.rows(
      "UPDATE leases l SET expire_ms = $1 " +
        "FROM unnest($2::text[], $3::text[], $4::int8[], $5::text[]) AS k(run_id, step_id, epoch, nonce) " +
        "WHERE l.run_id = k.run_id AND l.step_id = k.step_id AND l.epoch = k.epoch " +
        "AND l.nonce = k.nonce AND l.state = 'active' AND l.worker_id = $6 " +
        "RETURNING l.run_id, l.step_id, l.epoch, l.nonce",
      [
        expireTime.getTime(),
        keys.map((k) => k.runId),
        keys.map((k) => k.stepId),
        keys.map((k) => k.epoch.toString()),
        keys.map((k) => k.nonce),
        workerId,
      ],
    );
    const renewed = new Set(
      rows.map((row) =>
        leaseId(String(row.run_id), String(row.step_id), big(row.epoch), String(row.nonce))
      ),
    );
    return ids.filter((id) => renewed.has(id));
  }

  /**
   * Sets `assignment` (SQL) on the lease when it is current and active.
   * `durable`: committed with synchronous_commit on whatever the server's
   * setting, so the change outlives a crash of the database's machine.
   */
  async update(id: string, assignment: string, durable = false): Promise<boolean> {
    const match = whose(id, 1);
    if (!match) return false;
    const text = `UPDATE leases SET ${assignment} WHERE ${match.clause} AND state = 'active'`;
    const changed = durable
      ? await this.db.tx(async (tx) => {
        await tx.query("SET LOCAL synchronous_commit TO on");
        return await tx.query(text, match.values);
      })
      : await this.db.query(text, match.values);
    return (changed.rowCount ?? 0) > 0;
  }

  async list(
    filter: { runId?: string; workerId?: string; activeOnly?: boolean } = {},
  ): Promise<Lease[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.runId !== undefined) {
      values.push(filter.runId);
      where.push(`run_id = $${values.length}`);
    }
    if (filter.workerId !== undefined) {
      values.push(filter.workerId);
      where.push(`worker_id = $${values.length}`);
    }
    if (filter.activeOnly) where.push("state = 'active'");
    const rows = await this.db.rows(
      `SELECT ${columns} FROM leases` + (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
        " ORDER BY run_id, step_id",
      values,
    );
    return rows.map(leaseOf);
  }
}
