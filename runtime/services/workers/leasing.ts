// The hub's leases: every dispatch to a worker takes a lease in the store's
// lease table (runtime/ports/leases.ts), so the epoch that fences a stale
// worker survives this process, and "has written" is a field of the lease the
// capability service can set later. Heartbeats renew a worker's leases in one
// store call each and never touch a run's event log. Updates are fenced
// against the lease this hub follows (the store's newest when it was taken);
// a renewal the store refuses means a newer epoch exists, and that worker is
// told to kill. docs/design/0013-remote-workers.md.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HeldLease, LeaseUpdate } from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { EventQueue } from "../../exec/event_queue.ts";
import type { Clock } from "../../ports/clock.ts";
import { type LeaseStore, parseLeaseId } from "../../ports/leases.ts";
import { LiveLease, type WorkerSession } from "./session.ts";
import { toRemoteWork } from "./remote_work.ts";
import type { DispatchEvent, DispatchRequest } from "./types.ts";

/** One dispatch, from its request to the end of its stream. */
export interface Pending {
  request: DispatchRequest;
  events: EventQueue<DispatchEvent>;
  /** Given to a worker; its lease is being taken in the store. */
  placing?: WorkerSession;
  lease?: LiveLease;
  session?: WorkerSession;
  /** Cancelled while its lease was being taken. */
  cancelReason?: string;
}

/** Events a dispatch's reader may leave untaken before its worker's acks wait for it. */
const readerBacklog = 1024;

export const cancelledBeforeStart: DispatchEvent = {
  type: "exited",
  exitCode: 130,
  cancelled: true,
  timedOut: false,
  stdout: "",
  stdoutTruncated: false,
};

const failed = (error: string, errorCode: string): DispatchEvent => ({
  type: "exited",
  exitCode: 1,
  cancelled: false,
  timedOut: false,
  stdout: "",
  stdoutTruncated: false,
  error,
  errorCode,
});

export interface LeasingOptions {
  store: LeaseStore;
  clock: Clock;
  heartbeatMs: number;
  /** A worker has room again (a lease ended): queued dispatches may be placed. */
  freed(): void;
  /** Something went wrong with the store, for the server's log. */
  onError(what: string, error: unknown): void;
  /** Resolves once the run's owner has recorded the end of the lease's step (0027); absent: at once. */
  recorded?(runId: string, stepId: string, leaseId: string): Promise<void>;
}

/** What a kill asked by a reap did. */
export type KillOutcome =
  /** KillLease was sent to the connected worker. */
  | "sent"
  /** The worker is not connected: the lease is released, and it is killed when it comes back. */
  | "on-reconnect"
  /** No active lease of that id: nothing to kill. */
  | "gone";

export class Leasing {
  constructor(private readonly o: LeasingOptions) {}

  /** A lease's expiry from now: three heartbeats. */
  expiry(): Date {
    return new Date(this.o.clock.now().getTime() + 3 * this.o.heartbeatMs);
  }

  /** Takes the step's lease for `session` and sends it the assignment. */
  async assign(pending: Pending, session: WorkerSession): Promise<void> {
    pending.placing = session;
    session.reserved++;
    const { work, attempt } = pending.request;
    let record;
    try {
      record = await this.o.store.acquireLease({
        runId: work.runId,
        stepId: work.stepId,
        attempt,
        workerId: session.id,
        now: this.o.clock.now(),
        expireTime: this.expiry(),
      });
    } catch (error) {
      this.o.onError("taking a lease", error);
      pending.events.push(failed(`could not take a lease for the step: ${error}`, "io"));
      pending.events.close();
      return;
    } finally {
      session.reserved--;
      pending.placing = undefined;
    }
    const lease = new LiveLease(record, pending.events);
    pending.lease = lease;
    pending.session = session;
    if (pending.cancelReason !== undefined) {
      this.#write(lease, () => this.o.store.releaseLease(record.id));
      lease.finish(cancelledBeforeStart);
      this.o.freed();
      return;
    }
    session.leases.set(record.id, lease);
    session.send({
      case: "assign",
      value: {
        leaseId: record.id,
        epoch: record.epoch,
        runId: work.runId,
        stepId: work.stepId,
        attempt,
        leaseExpireTime: timestampFromDate(record.expireTime),
        work: toRemoteWork(work, pending.request.placement.executor ?? "", session.id),
      },
    });
    pending.events.push({
      type: "placed",
      workerId: session.id,
      workerName: session.name,
      leaseId: record.id,
      epoch: record.epoch,
    });
  }

  /**
   * Acknowledges what the lease has applied, unless its reader has fallen
   * behind: then the ack waits until the reader has taken half of what
   * waits. The worker sends no more than its window unacknowledged, so a
   * step that prints faster than the run stores its lines ends up waiting
   * on its own output, and the hub holds at most `readerBacklog` events
   * plus one window per lease.
   */
  #ackWhenRead(session: WorkerSession, lease: LiveLease): void {
    const r = lease.record;
    if (lease.ackDeferred) return;
    if (lease.events.size < readerBacklog) {
      session.ackLater(r.id, r.epoch, lease.appliedSeq);
      return;
    }
    lease.ackDeferred = true;
    lease.events.whenBelow(readerBacklog / 2).then(() => {
      lease.ackDeferred = false;
      session.ackLater(r.id, r.epoch, lease.appliedSeq);
    });
  }

  /** Cancels a placed dispatch (CancelLease, again after a reconnect); false when not placed. */
  cancel(pending: Pending, reason: string): boolean {
    if (pending.placing) {
      pending.cancelReason = reason;
      return true;
    }
    const lease = pending.lease;
    if (!lease) return false;
    if (lease.done || lease.ending || lease.cancelReason) return true;
    lease.cancelReason = reason;
    this.sendCancel(pending.session!, lease);
    return true;
  }

  /** Cancels a lease followed without a Pending (an adopted one, 0027). */
  cancelLive(session: WorkerSession, lease: LiveLease, reason: string): void {
    if (lease.done || lease.ending || lease.cancelReason) return;
    lease.cancelReason = reason;
    this.sendCancel(session, lease);
  }

  sendCancel(session: WorkerSession, lease: LiveLease): void {
    session.send({
      case: "cancel",
      value: { leaseId: lease.record.id, epoch: lease.record.epoch, reason: lease.cancelReason! },
    });
  }

  /**
   * Applies one update, each seq once and in order. An update of a lease this
   * hub does not follow at that epoch is refused: the worker is told to kill.
   */
  update(session: WorkerSession, update: LeaseUpdate): void {
    const lease = session.leases.get(update.leaseId);
    const r = lease?.record;
    const current = lease && r && !lease.ending && r.epoch === update.epoch &&
      r.runId === update.runId && r.stepId === update.stepId && r.attempt === update.attempt;
    if (!current) {
      const finished = session.finished.get(update.leaseId);
      if (finished && finished.epoch === update.epoch) {
        session.send({ case: "ack", value: { ...finished, leaseId: update.leaseId } });
        return;
      }
      this.#kill(session, update.leaseId, update.epoch, "stale lease: it is not current");
      return;
    }
    if (
      update.kind.case === "exited" && update.kind.value.errorCode === "worker_lost" &&
      update.seq === lease.appliedSeq + 1n
    ) {
      // The worker stopped the step itself, cut off past its grace window: a lost worker (sent
      // again if it wrote nothing), not a step that failed.
      lease.appliedSeq = update.seq;
      session.send({ case: "ack", value: { leaseId: r.id, epoch: r.epoch, seq: update.seq } });
      this.lost(session, lease, update.kind.value.error || "the worker stopped the step");
      return;
    }
    const outcome = lease.apply(update);
    if (outcome === "gap") return;
    // With several instances (0027) a step's exit is acknowledged, and its lease released, only
    // once its owner recorded it: an owner that dies in between leaves it for the worker to
    // resend to the instance that takes the run over, instead of lost.
    const held = outcome === "applied" && update.kind.case === "exited" && this.o.recorded;
    if (!held) this.#ackWhenRead(session, lease);
    if (outcome === "applied" && update.kind.case === "wrote") {
      this.#write(lease, () => this.o.store.markLeaseWritten(r.id));
    }
    if (lease.done) {
      session.retire(lease);
      const release = () => this.#write(lease, () => this.o.store.releaseLease(r.id));
      if (held) {
        const seq = lease.appliedSeq;
        const done = () => {
          session.ackLater(r.id, r.epoch, seq);
          release();
        };
        this.o.recorded!(r.runId, r.stepId, r.id).then(done, done);
      } else {
        // After the exit has been handed on: a store's write may hold this thread (a file
        // store's fsync), and a release lost to a crash only leaves a lease to expire.
        setTimeout(release, 0);
      }
      this.o.freed();
    }
  }

  /**
   * Renews what a heartbeat names in one store call. A lease the store does
   * not renew is no longer this worker's (a newer epoch, released): the
   * worker is told to kill it, and a dispatch still following it ends.
   */
  heartbeat(session: WorkerSession, ids: readonly string[]): void {
    if (ids.length === 0) return; // an idle worker costs the store nothing
    this.o.store.renewLeases(session.id, ids, this.expiry()).then((renewed) => {
      const ok = new Set(renewed);
      for (const id of ids) {
        // A finished lease's last updates may still await their ack: not stale.
        if (ok.has(id) || session.finished.has(id)) continue;
        const lease = session.leases.get(id);
        if (lease && !lease.done && !lease.ending) {
          session.leases.delete(id);
          lease.finish(failed("the step's lease was taken by a newer epoch", "stale_lease"));
          this.o.freed();
        }
        this.#kill(session, id, parseLeaseId(id)?.epoch ?? 0n, "stale lease: not renewed");
      }
    }, (error) => this.o.onError("renewing leases", error));
  }

  /**
   * After a (re)connect: the leases the worker still holds at this hub's
   * epoch resume (their last applied seq is returned, for the welcome); the
   * hub's leases it no longer holds end as lost; the ones it holds that the
   * hub no longer follows are killed (`kills`, sent after the welcome).
   */
  resume(session: WorkerSession, held: readonly HeldLease[]): Record<string, bigint> {
    const acked: Record<string, bigint> = {};
    const byId = new Map(held.map((h) => [h.leaseId, h]));
    for (const lease of [...session.leases.values()]) {
      const mine = byId.get(lease.record.id);
      if (mine && mine.epoch === lease.record.epoch) acked[lease.record.id] = lease.appliedSeq;
      else this.lost(session, lease, "the worker no longer holds the lease");
    }
    // Finished here, its last ack lost with the stream: the worker still holds it.
    for (const h of held) {
      const finished = session.finished.get(h.leaseId);
      if (finished && finished.epoch === h.epoch) acked[h.leaseId] = finished.seq;
    }
    return acked;
  }

  /** Tells the worker to kill each held lease this hub does not follow, naming the newer epoch. */
  async killStale(session: WorkerSession, held: readonly HeldLease[]): Promise<void> {
    for (const h of held) {
      if (session.leases.has(h.leaseId) || session.finished.has(h.leaseId)) continue;
      const parts = parseLeaseId(h.leaseId);
      const newest = parts
        ? (await this.o.store.listLeases({ runId: parts.runId }).catch(() => []))
          .find((l) => l.stepId === parts.stepId)
        : undefined;
      const reason = newest && newest.epoch > h.epoch
        ? `stale epoch ${h.epoch}: the step is leased again under epoch ${newest.epoch}`
        : "stale lease: the orchestrator no longer follows it";
      this.#kill(session, h.leaseId, h.epoch, reason);
    }
  }

  /**
   * Ends a lease whose worker is gone (or no longer holds it) with
   * workerLost, hasWritten read from the store's lease (the field the
   * capability service will set), after the lease is released.
   */
  lost(session: WorkerSession, lease: LiveLease, reason: string): void {
    session.leases.delete(lease.record.id);
    if (lease.done || lease.ending) return;
    lease.ending = true;
    const id = lease.record.id;
    const finish = (hasWritten: boolean) =>
      lease.finish({ type: "workerLost", workerId: session.id, hasWritten, reason });
    lease.writes = lease.writes.then(async () => {
      const stored = await this.o.store.getLease(id);
      await this.o.store.releaseLease(id);
      finish(lease.record.hasWritten || stored?.hasWritten === true);
    }).catch((error) => {
      this.o.onError("ending a lost worker's lease", error);
      finish(lease.record.hasWritten);
    });
  }

  /**
   * A reap: kills the lease's step on its worker. Connected: KillLease now
   * (its exit still comes back). Otherwise the lease is released, so the
   * worker is refused it and told to kill when it reconnects.
   */
  async kill(
    session: WorkerSession | undefined,
    leaseId: string,
    reason: string,
  ): Promise<KillOutcome> {
    const lease = session?.leases.get(leaseId);
    if (session && lease && !lease.done && !lease.ending) {
      lease.killReason = reason;
      if (this.#kill(session, leaseId, lease.record.epoch, reason)) return "sent";
      session.leases.delete(leaseId);
      lease.finish(failed(`the step was killed by a reap: ${reason}`, "worker_lost"));
    }
    const stored = await this.o.store.getLease(leaseId);
    if (stored?.state !== "active") return lease ? "on-reconnect" : "gone";
    await this.o.store.releaseLease(leaseId);
    return "on-reconnect";
  }

  #kill(session: WorkerSession, leaseId: string, epoch: bigint, reason: string): boolean {
    return session.send({ case: "kill", value: { leaseId, epoch, reason } });
  }

  /** Runs the store writes of one lease in order; a failure is logged, never thrown at a worker. */
  #write(lease: LiveLease, op: () => Promise<unknown>): void {
    lease.writes = lease.writes.then(op).catch((error) => this.o.onError("a lease write", error));
  }
}
