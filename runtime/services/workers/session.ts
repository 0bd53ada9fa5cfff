// One worker known to the hub: its identity and labels, the control stream
// it is attached by (absent while disconnected), and the leases it holds.
// A live lease pairs the store's lease (runtime/ports/leases.ts, the durable
// truth: epoch, expiry, hasWritten) with what only this process has: the
// dispatch stream its events go to and the last update seq applied, so every
// update is applied once, in order.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type AttachResponse,
  AttachResponseSchema,
  type LeaseUpdate,
} from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import {
  type Worker,
  WorkerSchema,
  WorkerState,
} from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { SwampError } from "../../errors/mod.ts";
import { EventQueue } from "../../exec/event_queue.ts";
import type { CancelStageName } from "../../ports/executor.ts";
import type { Lease } from "../../ports/leases.ts";
import { type Candidate, defaultWorkerExecutor } from "./placement.ts";
import { SessionCredential } from "./session_credential.ts";
import type { DispatchEvent } from "./types.ts";

/** A message of the orchestrator's, as its oneof case and value. */
export type Outbound = MessageInitShape<typeof AttachResponseSchema>["kind"];

/** One attached control stream: what the hub sends on it, and the error it ends with. */
export class Channel {
  readonly queue = new EventQueue<AttachResponse>();
  error?: SwampError;
  closed = false;

  send(kind: Outbound): void {
    this.queue.push(create(AttachResponseSchema, { kind }));
  }

  /** Ends the stream; with an error, the worker sees that error (a refusal, a revoked token). */
  close(error?: SwampError): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.queue.close();
  }
}

/** A lease this hub follows and the dispatch stream it reports to. */
export class LiveLease {
  appliedSeq = 0n;
  /** Set when the dispatch was cancelled: sent to the worker (again after a reconnect). */
  cancelReason?: string;
  /** Set when a reap asked the worker to kill the step (its exit still comes back). */
  killReason?: string;
  /** Its worker was lost: the dispatch ends with workerLost once the store says hasWritten. */
  ending = false;
  done = false;
  /** Its ack waits for the dispatch's reader to catch up (Leasing's #ackWhenRead). */
  ackDeferred = false;
  /** Parked for adoption and nothing received yet: the next update's seq is accepted (0027). */
  adopting = false;
  /** The store writes about this lease, in order (written, then released). */
  writes: Promise<unknown> = Promise.resolve();

  /** `record` is the store's lease as acquired; hasWritten is mirrored here as it is marked. */
  constructor(readonly record: Lease, readonly events: EventQueue<DispatchEvent>) {}

  /**
   * Applies an update of this lease's epoch: `applied` when it was the next
   * seq, `duplicate` when it was applied before, `gap` when an earlier one is
   * missing (not applied; the worker resends from the last ack).
   */
  apply(update: LeaseUpdate): "applied" | "duplicate" | "gap" {
    if (this.adopting) {
      // Adopted from a dead owner's hub: its first resent seq starts the sequence here, and the
      // `started` it may resend was already given (adoption.ts).
      this.adopting = false;
      this.appliedSeq = update.seq - 1n;
      if (update.kind.case === "started") {
        this.appliedSeq = update.seq;
        return "applied";
      }
    }
    if (update.seq <= this.appliedSeq) return "duplicate";
    if (update.seq !== this.appliedSeq + 1n) return "gap";
    this.appliedSeq = update.seq;
    const event = eventOf(update, this.record);
    if (event) this.events.push(event);
    if (update.kind.case === "exited") this.finish();
    return "applied";
  }

  /** Ends the dispatch stream, after `last` when given. */
  finish(last?: DispatchEvent): void {
    if (this.done) return;
    this.done = true;
    if (last) this.events.push(last);
    this.events.close();
  }
}

function eventOf(update: LeaseUpdate, record: Lease): DispatchEvent | undefined {
  const { kind } = update;
  switch (kind.case) {
    case "started":
      return {
        type: "started",
        process: {
          // The executor that dispatched through the hub names itself (it is the one to reap it).
          executor: "",
          pid: kind.value.pid,
          pgid: kind.value.pgid,
          processStart: kind.value.processStart,
          ...(kind.value.containerId ? { containerId: kind.value.containerId } : {}),
          // What a reap needs to find the step again: the worker and its lease.
          workerId: record.workerId,
          leaseId: record.id,
        },
      };
    case "output":
      return {
        type: "output",
        stream: kind.value.stream === "stderr" ? "stderr" : "stdout",
        line: kind.value.line,
      };
    case "cancelStage":
      return {
        type: "cancelStage",
        stage: kind.value.stage as CancelStageName,
        detail: kind.value.detail,
      };
    case "wrote":
      record.hasWritten = true;
      return { type: "wrote", what: kind.value.what };
    case "exited": {
      const e = kind.value;
      return {
        type: "exited",
        exitCode: e.exitCode,
        ...(e.signal ? { signal: e.signal } : {}),
        cancelled: e.cancelled,
        timedOut: e.timedOut,
        stdout: e.stdout,
        stdoutTruncated: e.stdoutTruncated,
        ...(e.error ? { error: e.error } : {}),
        ...(e.errorCode ? { errorCode: e.errorCode } : {}),
        ...(e.outOfMemory ? { outOfMemory: true } : {}),
      };
    }
    default:
      return undefined;
  }
}

export interface SessionIdentity {
  id: string;
  name: string;
  tokenName: string;
  machineId: string;
}

/** A worker the hub knows: connected, draining, or disconnected within its grace window. */
/** How long an ack may wait for others (ackLater), and how many may wait. */
const ackDelayMs = 10;
const maxPendingAcks = 64;

export class WorkerSession {
  readonly sessionId = crypto.randomUUID();
  /** What a hello must present, besides the session id, to resume this session. */
  readonly credential = new SessionCredential();
  labels: Record<string, string> = {};
  /** The executors it offers (its hello's; loopback for a worker that names none). */
  executors: string[] = [defaultWorkerExecutor];
  concurrency = 1;
  protocolVersion = 0;
  softwareVersion = "";
  tokenExpire = new Date(0);
  connectTime = new Date(0);
  lastSeen = new Date(0);
  draining = false;
  channel?: Channel;
  disconnectedAt?: Date;
  readonly leases = new Map<string, LiveLease>();
  /** Dispatches given to this worker whose lease is being taken in the store. */
  reserved = 0;
  /** Steps it runs for other instances of the store (its WorkerLoad, protocol 3). */
  busyElsewhere = 0;
  /** Recently finished leases and their last seq, so a resent update is acked, not fenced. */
  readonly finished = new Map<string, { epoch: bigint; seq: bigint }>();
  /** Acks not sent yet, by lease: the newest seq of each (an ack covers every seq before it). */
  readonly #acks = new Map<string, { epoch: bigint; seq: bigint }>();
  #ackTimer?: ReturnType<typeof setTimeout>;

  constructor(readonly identity: SessionIdentity) {}

  get id(): string {
    return this.identity.id;
  }

  get name(): string {
    return this.identity.name;
  }

  send(kind: Outbound): boolean {
    if (!this.channel || this.channel.closed) return false;
    this.channel.send(kind);
    return true;
  }

  /**
   * Acks an applied update a moment later, together with the acks due by then.
   * An ack only lets the worker drop its copy of what it sent, so it need not
   * race what the update set off (a step's exit handed to its run, the next
   * step assigned): it is one message less at that moment, on both ends, and
   * a step's start and exit are acked in one. A reconnect's welcome carries
   * the applied seqs, so an ack lost with the stream costs nothing.
   */
  ackLater(leaseId: string, epoch: bigint, seq: bigint): void {
    this.#acks.set(leaseId, { epoch, seq });
    if (this.#acks.size >= maxPendingAcks) this.flushAcks();
    else this.#ackTimer ??= setTimeout(() => this.flushAcks(), ackDelayMs);
  }

  /** Sends the acks waiting; called as the stream ends too, so no timer outlives it. */
  flushAcks(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    for (const [leaseId, { epoch, seq }] of this.#acks) {
      this.send({ case: "ack", value: { leaseId, epoch, seq } });
    }
    this.#acks.clear();
  }

  /** Forgets a finished lease (remembering its last seq for a while). */
  retire(lease: LiveLease): void {
    this.leases.delete(lease.record.id);
    this.finished.set(lease.record.id, { epoch: lease.record.epoch, seq: lease.appliedSeq });
    if (this.finished.size > 1000) {
      this.finished.delete(this.finished.keys().next().value!);
    }
  }

  state(): WorkerState {
    if (!this.channel) return WorkerState.DISCONNECTED;
    return this.draining ? WorkerState.DRAINING : WorkerState.CONNECTED;
  }

  candidate(): Candidate {
    return {
      id: this.id,
      name: this.name,
      labels: this.labels,
      executors: this.executors,
      accepting: this.channel !== undefined && !this.draining,
      running: this.leases.size + this.reserved + this.busyElsewhere,
      concurrency: this.concurrency,
      protocol: this.protocolVersion,
    };
  }

  describe(): Worker {
    return create(WorkerSchema, {
      id: this.id,
      name: this.name,
      state: this.state(),
      labels: this.labels,
      running: [...this.leases.values()].map((l) => `${l.record.runId}/${l.record.stepId}`),
      concurrency: this.concurrency,
      protocolVersion: this.protocolVersion,
      softwareVersion: this.softwareVersion,
      lastSeenTime: timestampFromDate(this.lastSeen),
      connectTime: timestampFromDate(this.connectTime),
      tokenName: this.identity.tokenName,
      executors: this.executors,
      runningElsewhere: this.busyElsewhere,
    });
  }
}
