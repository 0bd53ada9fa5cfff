// The orchestrator's worker hub: the sessions of attached workers and the
// placement of dispatched steps; their leases live in the store's lease
// table, kept by leasing.ts.
// Protocol-independent: `attach` takes the worker's messages as an async
// iterable and yields the orchestrator's; a transport (plugins/rpc/connect)
// bridges it to a bidirectional stream. docs/design/0013-remote-workers.md.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  AttachRequest,
  AttachResponse,
  WorkerHello,
} from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { Worker, WorkerToken } from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import { ErrorCode, SwampError } from "../../errors/mod.ts";
import { EventQueue } from "../../exec/event_queue.ts";
import { secretHash } from "../token_secret.ts";
import { liveTokenRefusal, redeemWorkerToken } from "../worker_enroll.ts";
import { checkLabels } from "../worker_labels.ts";
import { readHello } from "./hello.ts";
import { checkExecutorNames, choose, defaultWorkerExecutor, queueReason } from "./placement.ts";
import { multiInstanceProtocol, negotiateProtocol, supportedProtocol } from "./protocol.ts";
import { cancelledBeforeStart, type KillOutcome, Leasing, type Pending } from "./leasing.ts";
import { Channel, WorkerSession } from "./session.ts";
import { drawCredential, resumeCheck } from "./session_credential.ts";
import type { DispatchEvent, DispatchRequest, HubEvent } from "./types.ts";
import { Adoptions } from "./adoption.ts";
import type { WorkerHubOptions } from "./hub_options.ts";
import type { PeerWorker } from "../../ports/instances.ts";

export type { WorkerHubOptions } from "./hub_options.ts";

export class WorkerHub {
  readonly heartbeatMs: number;
  readonly graceMs: number;
  readonly #options: WorkerHubOptions;
  /** By token name: a token enrolls one worker. */
  readonly #sessions = new Map<string, WorkerSession>();
  #queue: Pending[] = [];
  readonly #leasing: Leasing;
  readonly #adoptions: Adoptions;
  readonly #ticker: ReturnType<typeof setInterval>;
  #ticking = false;
  /** False once the server hands its runs over: queued steps stay for the next owner. */
  #placing = true;

  constructor(options: WorkerHubOptions) {
    this.#options = options;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.graceMs = options.graceMs ?? 30_000;
    this.#leasing = new Leasing({
      store: options.leases,
      clock: options.clock,
      heartbeatMs: this.heartbeatMs,
      freed: () => this.#place(),
      onError: (what, error) => this.#emit({ event: "lease_error", what, message: String(error) }),
      recorded: options.recorded,
    });
    this.#adoptions = new Adoptions(options.leases, this.graceMs, options.mayAdopt);
    this.#ticker = setInterval(() => void this.#tick(), options.tickMs ?? 1000);
  }

  /** Stops the hub's timer; streams end with the server that carries them. */
  close(): void {
    clearInterval(this.#ticker);
  }

  /**
   * Assigns nothing more to workers (decision 0030): the server is handing
   * its runs over, and a step still queued is the next owner's to place.
   */
  stopPlacing(): void {
    this.#placing = false;
  }

  /**
   * The runs whose remote steps this instance can adopt: a lease parked here
   * (0027), or held by a worker connected here that can move it (0031).
   * Their takeover belongs here.
   */
  async adoptableRuns(): Promise<Set<string>> {
    const runs = this.#adoptions.parkedRuns();
    for (const session of this.#connected()) {
      if (session.protocolVersion < multiInstanceProtocol) continue;
      const leases = await this.#options.leases.listLeases({
        workerId: session.id,
        activeOnly: true,
      });
      for (const lease of leases) if (!session.leases.has(lease.id)) runs.add(lease.runId);
    }
    return runs;
  }

  /** The connected workers as other instances see them (instances.ts's PeerWorker). */
  peerWorkers(): PeerWorker[] {
    return this.#connected().map((session) => {
      // How busy it is changes with every step: not published.
      const { running: _, ...worker } = session.candidate();
      return { ...worker, labels: { ...worker.labels }, executors: [...worker.executors] };
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every worker the hub knows, by name. */
  list(): Worker[] {
    return [...this.#sessions.values()].map((s) => s.describe())
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops new dispatches to the worker named (or with that id); what it runs finishes. */
  drain(nameOrId: string): { worker: Worker; changed: boolean } {
    const session = [...this.#sessions.values()].find((s) =>
      s.name === nameOrId || s.id === nameOrId
    );
    if (!session) {
      throw new SwampError(ErrorCode.NOT_FOUND, `no worker named ${nameOrId} is known`, {
        hint: "list them with `swamp worker list`",
      });
    }
    const changed = !session.draining;
    session.draining = true;
    if (changed) {
      session.send({ case: "drain", value: { reason: "drained by an operator" } });
      this.#emit({ event: "worker_draining", workerId: session.id, name: session.name });
    }
    return { worker: session.describe(), changed };
  }

  /**
   * Runs a step on a worker (see DispatchEvent for what it yields). It waits
   * for a matching connected, non-draining worker under its concurrency;
   * aborting `signal` cancels it: a queued step ends at once, a placed one
   * gets CancelLease and its worker's cancel stages come back before exited.
   */
  async *dispatch(request: DispatchRequest, signal: AbortSignal): AsyncGenerator<DispatchEvent> {
    if (signal.aborted) {
      yield cancelledBeforeStart;
      return;
    }
    if (request.adoptLease) {
      // A step a dead owner instance dispatched, taken over with its run (0027).
      return yield* this.#adoptions.adopt(
        request.adoptLease,
        signal,
        this.#leasing,
        (workerId) => this.#connected().find((s) => s.id === workerId),
      );
    }
    const pending: Pending = { request, events: new EventQueue() };
    this.#queue.push(pending);
    const onAbort = () => this.#cancel(pending, "the dispatch was cancelled");
    signal.addEventListener("abort", onAbort, { once: true });
    this.#place();
    if (!pending.lease && !pending.placing) {
      const candidates = this.#connected().map((s) => s.candidate());
      const here = new Set(candidates.map((c) => c.id));
      const reason = queueReason(candidates, request.placement) +
        (this.#options.elsewhere?.(request.placement, here) ?? "");
      pending.events.push({ type: "queued", reason });
    }
    try {
      yield* pending.events;
    } finally {
      signal.removeEventListener("abort", onAbort);
      // A consumer that stopped reading leaves nothing running behind it.
      if (!pending.lease?.done) this.#cancel(pending, "the dispatcher went away");
      this.#queue = this.#queue.filter((p) => p !== pending);
    }
  }

  /**
   * One worker's control stream: `requests` are its messages, the result the
   * orchestrator's. The first request must be a hello; a refusal throws
   * (before anything is yielded) a SwampError with one stable code.
   */
  async *attach(
    requests: AsyncIterable<AttachRequest>,
    signal: AbortSignal,
  ): AsyncGenerator<AttachResponse> {
    const iterator = requests[Symbol.asyncIterator]();
    const hello = await readHello(iterator, signal, this.#options.helloTimeoutMs ?? 10_000);
    let session: WorkerSession;
    let resumed: boolean;
    let credential: string;
    let parkable: Awaited<ReturnType<Adoptions["parkable"]>> = [];
    try {
      const version = negotiateProtocol(
        { min: hello.protocolMin, max: hello.protocolMax },
        this.#options.protocol ?? supportedProtocol,
      );
      checkLabels(hello.labels);
      checkExecutorNames(hello.executors);
      const token = await redeemWorkerToken(
        this.#options.tokens,
        hello.credential,
        hello.machineId,
        this.#options.clock,
      );
      [session, resumed, credential] = await this.#admit(token, hello, version);
      // A new session's held leases a dead instance handed out may be adopted (0027).
      parkable = resumed ? [] : await this.#adoptions.parkable(session, hello.held);
    } catch (error) {
      const refusal = error instanceof SwampError ? error : undefined;
      this.#emit({
        event: "worker_refused",
        code: refusal?.codeName ?? "internal",
        message: refusal?.message ?? String(error),
      });
      throw error;
    }
    const channel = new Channel();
    this.#connect(session, channel, hello, resumed, credential, parkable);
    const reading = (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done || channel.closed) return;
        this.#receive(session, channel, next.value);
      }
    })();
    reading.catch(() => {}).finally(() => channel.close());
    const onAbort = () => channel.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      yield* channel.queue;
    } finally {
      signal.removeEventListener("abort", onAbort);
      channel.close();
      this.#detach(session, channel);
    }
    if (channel.error) throw channel.error;
  }

  async #admit(
    token: WorkerToken,
    hello: WorkerHello,
    version: number,
  ): Promise<[WorkerSession, boolean, string]> {
    const now = this.#options.clock.now();
    const existing = this.#sessions.get(token.name);
    const { kept, mismatch } = await resumeCheck(existing, hello);
    if (mismatch) this.#emit(mismatch);
    const fresh = await drawCredential();
    const sameSession = kept !== undefined;
    if (existing?.channel && !sameSession) {
      throw new SwampError(
        ErrorCode.ALREADY_CONNECTED,
        `worker ${existing.name} (token ${token.name}) is already connected, since ` +
          existing.connectTime.toISOString(),
        {
          hint: "a token enrolls one worker: stop the other `swamp worker connect` that uses " +
            `it, or if it is gone, retry in ${Math.ceil((3 * this.heartbeatMs) / 1000)} s, ` +
            "when the orchestrator notices its silence",
        },
      );
    }
    // The same worker process coming back on a new stream (a blip the hub had not noticed yet).
    if (existing?.channel && sameSession) existing.channel.close();
    let session = existing;
    if (existing && !sameSession) {
      // A worker process that restarted holds none of its old leases.
      this.#lose(existing, "the worker restarted and no longer runs them");
      session = undefined;
    }
    session ??= new WorkerSession({
      id: `w-${(await secretHash(`${token.name}\n${hello.machineId}`)).slice(0, 12)}`,
      name: hello.name || token.name,
      tokenName: token.name,
      machineId: hello.machineId,
    });
    session.labels = { ...hello.labels, ...token.labels };
    session.executors = hello.executors.length > 0
      ? [...new Set(hello.executors)]
      : [defaultWorkerExecutor];
    session.concurrency = Math.max(1, hello.concurrency);
    session.protocolVersion = version;
    session.softwareVersion = hello.softwareVersion;
    session.tokenExpire = token.expireTime ? timestampDate(token.expireTime) : now;
    session.lastSeen = now;
    this.#sessions.set(token.name, session);
    session.credential.adopt(fresh, now, kept);
    return [session, sameSession, fresh.secret];
  }

  #connect(
    session: WorkerSession,
    channel: Channel,
    hello: WorkerHello,
    resumed: boolean,
    credential: string,
    parkable: Awaited<ReturnType<Adoptions["parkable"]>> = [],
  ): void {
    const now = this.#options.clock.now();
    session.channel = channel;
    session.disconnectedAt = undefined;
    if (!resumed) session.connectTime = now;
    const acked = {
      ...this.#leasing.resume(session, hello.held),
      ...this.#adoptions.park(session, parkable),
    };
    channel.send({
      case: "welcome",
      value: {
        workerId: session.id,
        sessionId: session.sessionId,
        protocolVersion: session.protocolVersion,
        heartbeatIntervalMs: this.heartbeatMs,
        graceMs: this.graceMs,
        labels: session.labels,
        expireTime: timestampFromDate(session.tokenExpire),
        acked,
        sessionCredential: credential,
      },
    });
    for (const lease of session.leases.values()) {
      if (lease.killReason) {
        session.send({
          case: "kill",
          value: { leaseId: lease.record.id, epoch: lease.record.epoch, reason: lease.killReason },
        });
      } else if (lease.cancelReason) this.#leasing.sendCancel(session, lease);
    }
    void this.#leasing.killStale(session, hello.held);
    if (session.draining) session.send({ case: "drain", value: { reason: "drained" } });
    this.#emit({ event: "worker_connected", workerId: session.id, name: session.name, resumed });
    this.#place();
  }

  #detach(session: WorkerSession, channel: Channel): void {
    if (session.channel !== channel) return;
    session.flushAcks();
    session.channel = undefined;
    if (this.#sessions.get(session.identity.tokenName) !== session) return;
    session.disconnectedAt = this.#options.clock.now();
    const reason = channel.error?.message ?? "the control stream ended";
    this.#emit({ event: "worker_disconnected", workerId: session.id, name: session.name, reason });
    // A revoked or expired token cannot come back: its leases are lost now, not after the grace.
    if (channel.error) this.#lose(session, reason);
  }

  #receive(session: WorkerSession, channel: Channel, request: AttachRequest): void {
    if (session.channel !== channel) return;
    const now = this.#options.clock.now();
    session.lastSeen = now;
    const { kind } = request;
    if (kind.case === "heartbeat") {
      session.send({ case: "heartbeatAck", value: {} });
      this.#leasing.heartbeat(session, kind.value.leaseIds);
      session.credential.renewIfDue(
        session,
        now,
        this.#options.sessionRenewMs ?? 600_000,
        () =>
          this.#emit({ event: "worker_session_renewed", workerId: session.id, name: session.name }),
      );
      if (kind.value.draining && !session.draining) {
        session.draining = true;
        this.#emit({ event: "worker_draining", workerId: session.id, name: session.name });
      }
    } else if (kind.case === "update") {
      this.#leasing.update(session, kind.value);
    } else if (kind.case === "load") {
      session.busyElsewhere = kind.value.busyElsewhere;
      this.#place();
    }
  }

  #connected(): WorkerSession[] {
    return [...this.#sessions.values()].filter((s) => s.channel !== undefined);
  }

  /** Gives queued dispatches, oldest first, to free workers that fit them. */
  #place(): void {
    if (!this.#placing) return;
    for (const pending of this.#queue) {
      if (pending.lease || pending.placing) continue;
      const sessions = this.#connected();
      const chosen = choose(sessions.map((s) => s.candidate()), pending.request.placement);
      const session = sessions.find((s) => s.id === chosen?.id);
      if (session) void this.#leasing.assign(pending, session);
    }
    this.#queue = this.#queue.filter((p) => !p.lease && !p.placing);
  }

  #cancel(pending: Pending, reason: string): void {
    if (this.#leasing.cancel(pending, reason)) return;
    this.#queue = this.#queue.filter((p) => p !== pending);
    pending.events.push(cancelledBeforeStart);
    pending.events.close();
  }

  /**
   * Kills a lease's step on its worker, for a reap (see Leasing.kill): sent
   * now when the worker is connected, else when it reconnects.
   */
  killLease(workerId: string, leaseId: string, reason: string): Promise<KillOutcome> {
    const session = [...this.#sessions.values()].find((s) => s.id === workerId);
    return this.#leasing.kill(session, leaseId, reason);
  }

  /** Forgets a worker: its leases end with workerLost. */
  #lose(session: WorkerSession, reason: string): void {
    const leases = session.leases.size;
    for (const lease of [...session.leases.values()]) this.#leasing.lost(session, lease, reason);
    if (this.#sessions.get(session.identity.tokenName) === session) {
      this.#sessions.delete(session.identity.tokenName);
    }
    session.channel?.close();
    this.#emit({ event: "worker_lost", workerId: session.id, name: session.name, reason, leases });
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = this.#options.clock.now();
      for (const session of [...this.#sessions.values()]) {
        if (session.channel) {
          // A revoked or expired token disconnects its worker (read from the store).
          const refusal = await liveTokenRefusal(this.#options.tokens, session.identity, now);
          if (refusal) session.channel?.close(refusal);
          // A stream that went silent (a half-open connection) is treated as gone.
          if (now.getTime() - session.lastSeen.getTime() > 3 * this.heartbeatMs) {
            session.channel?.close();
          }
        } else if (
          session.disconnectedAt &&
          now.getTime() - session.disconnectedAt.getTime() >= this.graceMs
        ) {
          this.#lose(session, `the worker did not reconnect within ${this.graceMs} ms`);
        }
      }
    } finally {
      this.#ticking = false;
    }
  }

  #emit(event: HubEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // The log's trouble is not the worker's.
    }
  }
}
