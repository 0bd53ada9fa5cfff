// Leases in memory: each step's newest lease (runtime/ports/leases.ts), by
// run and step. Copies in and out, so no caller holds the stored lease.
import { type AcquireLease, type Lease, nextLease, parseLeaseId } from "../../../runtime/mod.ts";

const key = (runId: string, stepId: string) => JSON.stringify([runId, stepId]);
const copy = (lease: Lease): Lease => ({
  ...lease,
  createTime: new Date(lease.createTime),
  expireTime: new Date(lease.expireTime),
});
const byRunThenStep = (a: Lease, b: Lease) =>
  a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.stepId < b.stepId ? -1 : 1;

export class MemoryLeases {
  readonly #newest = new Map<string, Lease>();

  /** The lease `id` names while it is its step's newest (the whole id, nonce included). */
  current(id: string): Lease | undefined {
    const parts = parseLeaseId(id);
    const lease = parts && this.#newest.get(key(parts.runId, parts.stepId));
    return lease?.id === id ? copy(lease) : undefined;
  }

  acquire(request: AcquireLease): Lease {
    const newest = this.#newest.get(key(request.runId, request.stepId));
    const lease = nextLease(request, newest?.epoch);
    this.#newest.set(key(lease.runId, lease.stepId), copy(lease));
    return lease;
  }

  renew(workerId: string, ids: readonly string[], expireTime: Date): string[] {
    return ids.filter((id) =>
      this.update(id, (lease) => lease.expireTime = new Date(expireTime), workerId)
    );
  }

  /** Applies `change` when the lease is current and active (and, if named, `workerId`'s). */
  update(id: string, change: (lease: Lease) => void, workerId?: string): boolean {
    const lease = this.current(id);
    if (lease?.state !== "active") return false;
    if (workerId !== undefined && lease.workerId !== workerId) return false;
    change(lease);
    this.#newest.set(key(lease.runId, lease.stepId), lease);
    return true;
  }

  /** Drops every lease of a run (a pruned run's). */
  forgetRun(runId: string): void {
    for (const [k, lease] of this.#newest) if (lease.runId === runId) this.#newest.delete(k);
  }

  list(filter: { runId?: string; workerId?: string; activeOnly?: boolean } = {}): Lease[] {
    return [...this.#newest.values()].filter((lease) =>
      (filter.runId === undefined || lease.runId === filter.runId) &&
      (filter.workerId === undefined || lease.workerId === filter.workerId) &&
      (!filter.activeOnly || lease.state === "active")
    ).map(copy).sort(byRunThenStep);
  }
}
