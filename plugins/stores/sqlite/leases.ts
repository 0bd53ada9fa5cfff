/// <reference path="./node_sqlite.d.ts" />
// Leases in the leases table (schema.ts): one row per step, its newest lease
// (runtime/ports/leases.ts). The store runs every change in its own BEGIN
// IMMEDIATE transaction, so two processes taking a lease of one step read
// different epochs and the later one stays.
import type { DatabaseSync, Row, StatementSync } from "node:sqlite";
import {
  type AcquireLease,
  type Lease,
  leaseId,
  nextLease,
  parseLeaseId,
} from "../../../runtime/mod.ts";

const columns =
  "run_id, step_id, epoch, nonce, attempt, worker_id, create_ms, expire_ms, has_written, state";

const sql = {
  get: `SELECT ${columns} FROM leases WHERE run_id = ? AND step_id = ?`,
  put: `INSERT OR REPLACE INTO leases (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  // BINARY collation: plain byte order, never a locale's, like the file store.
  all: `SELECT ${columns} FROM leases ORDER BY run_id, step_id`,
  ofRun: `SELECT ${columns} FROM leases WHERE run_id = ? ORDER BY step_id`,
};

function leaseOf(row: Row): Lease {
  const runId = String(row.run_id);
  const stepId = String(row.step_id);
  const epoch = BigInt(row.epoch as number);
  return {
    id: leaseId(runId, stepId, epoch, String(row.nonce)),
    runId,
    stepId,
    attempt: Number(row.attempt),
    epoch,
    workerId: String(row.worker_id),
    createTime: new Date(Number(row.create_ms)),
    expireTime: new Date(Number(row.expire_ms)),
    hasWritten: Number(row.has_written) === 1,
    state: String(row.state) as Lease["state"],
  };
}

export class SqliteLeases {
  private readonly statements: Record<keyof typeof sql, StatementSync>;

  constructor(db: DatabaseSync) {
    this.statements = Object.fromEntries(
      Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]),
    ) as Record<keyof typeof sql, StatementSync>;
  }

  private put(lease: Lease): void {
    this.statements.put.run(
      lease.runId,
      lease.stepId,
      lease.epoch,
      parseLeaseId(lease.id)?.nonce ?? "",
      lease.attempt,
      lease.workerId,
      lease.createTime.getTime(),
      lease.expireTime.getTime(),
      lease.hasWritten ? 1 : 0,
      lease.state,
    );
  }

  /** The lease `id` names while it is its step's newest. */
  current(id: string): Lease | undefined {
    const parts = parseLeaseId(id);
    if (!parts) return undefined;
    const row = this.statements.get.get(parts.runId, parts.stepId);
    const lease = row ? leaseOf(row) : undefined;
    // The whole id, nonce included: a lease lost in a crash may share its epoch with a newer one.
    return lease?.id === id ? lease : undefined;
  }

  /** Call inside a write transaction. */
  acquire(request: AcquireLease): Lease {
    const row = this.statements.get.get(request.runId, request.stepId);
    const lease = nextLease(request, row ? BigInt(row.epoch as number) : undefined);
    this.put(lease);
    return lease;
  }

  /** Call inside a write transaction. */
  renew(workerId: string, ids: readonly string[], expireTime: Date): string[] {
    const renewed: string[] = [];
    for (const id of ids) {
      const lease = this.current(id);
      if (lease?.state !== "active" || lease.workerId !== workerId) continue;
      lease.expireTime = expireTime;
      this.put(lease);
      renewed.push(id);
    }
    return renewed;
  }

  /** Call inside a write transaction: applies `change` when the lease is current and active. */
  update(id: string, change: (lease: Lease) => void): boolean {
    const lease = this.current(id);
    if (lease?.state !== "active") return false;
    change(lease);
    this.put(lease);
    return true;
  }

  list(filter: { runId?: string; workerId?: string; activeOnly?: boolean } = {}): Lease[] {
    const rows = filter.runId !== undefined
      ? this.statements.ofRun.all(filter.runId)
      : this.statements.all.all();
    return rows.map(leaseOf).filter((lease) =>
      (filter.workerId === undefined || lease.workerId === filter.workerId) &&
      (!filter.activeOnly || lease.state === "active")
    );
  }
}
