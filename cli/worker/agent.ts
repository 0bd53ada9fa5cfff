// The worker's side of the control channel: dial the orchestrator, say
// hello (resuming the session and naming the leases still held after a
// reconnect), run what is assigned, report it, heartbeat, and reconnect
// with backoff when the connection drops. Given several instances of one
// store, it holds a link to each at once (decision 0031): any of them may
// place a step on it, and it runs at most its concurrency over all of them.
// A refusal (token_*, pin_mismatch, protocol_mismatch, already_connected, …)
// ends the worker: retrying would be refused again.
import { create } from "@bufbuild/protobuf";
import {
  type AttachRequest,
  AttachRequestSchema,
  type AttachResponse,
  LeaseUpdateSchema,
} from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  asSwampError,
  EventQueue,
  type Executor,
  multiInstanceProtocol,
  type ProtocolRange,
  type SwampError,
} from "../../runtime/mod.ts";
import { type HeldLeaseState, LeaseBook } from "./leases.ts";
import { Link } from "./link.ts";
import type { StepRecords } from "./step_records.ts";
import type { WorkerExtensions } from "./extension_steps.ts";

/** Codes that end a worker instead of a reconnect. */
export const refusalCodes = new Set([
  "token_invalid",
  "token_expired",
  "token_revoked",
  "bound_to_other_machine",
  "already_connected",
  "protocol_mismatch",
  "pin_mismatch",
  "usage",
  "unauthenticated",
  "permission_denied",
]);

export interface AgentOptions {
  /**
   * The orchestrator's URL, or every instance's on one shared store: the
   * worker connects to each of them (decision 0031).
   */
  urls: URL[];
  credential: string;
  machineId: string;
  name: string;
  labels: Record<string, string>;
  concurrency: number;
  caCert?: string;
  pin?: string;
  reconnect: boolean;
  protocol: ProtocolRange;
  softwareVersion: string;
  /** The executors it offers, by name (advertised in its hello). */
  executors: ReadonlyMap<string, Executor>;
  workDir: string;
  /** Where running steps are recorded for a later worker process to reap (the cache dir's). */
  records?: StepRecords;
  /** Runs extension methods (protocol 2); without it such a step fails on this worker. */
  extensions?: WorkerExtensions;
  /** One lifecycle event (connected, assigned, finished, disconnected, …). */
  log(event: string, fields: Record<string, unknown>): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export class WorkerAgent {
  readonly #options: AgentOptions;
  /** Each held lease's route is the link it reports on. */
  readonly #book: LeaseBook<Link>;
  readonly #links: Link[];
  #stopping = false;
  /**
   * An operator drained it through one instance (`swamp worker drain`): it
   * says so to every instance, so none places a new step on it.
   */
  #drained = false;
  readonly #stop = new AbortController();

  /**
   * The orchestrator instance a lease reports to (the first one's for a
   * lease it does not hold), once that link is connected: while it is not,
   * the lease may be about to move to the instance that takes its run over
   * (AdoptLease), or the link to come back. Waits at most the grace window,
   * then answers the link it has (a call to it then fails as unreachable).
   */
  async serverOf(leaseId: string): Promise<URL> {
    const linkOf = () => this.#book.held.get(leaseId)?.route ?? this.#links[0];
    const deadline = Date.now() + linkOf().graceMs;
    for (;;) {
      const link = linkOf();
      if (link.outbox || Date.now() >= deadline || this.#stop.signal.aborted) return link.url;
      await sleep(100, this.#stop.signal);
    }
  }

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#links = options.urls.map((url) => new Link(url));
    this.#book = new LeaseBook<Link>(
      options.executors,
      {
        send: (update, lease) => lease.route?.push({ case: "update", value: update }),
        finished: (lease, exited) => {
          options.log("finished", {
            leaseId: lease.assignment.leaseId,
            runId: lease.assignment.runId,
            stepId: lease.assignment.stepId,
            exitCode: exited.exitCode,
            cancelled: exited.cancelled,
          });
          this.#reportLoad();
        },
      },
      options.workDir,
      options.records,
      options.extensions,
    );
    this.#book.concurrency = options.concurrency;
  }

  /**
   * Stops taking work (every instance is told at once), lets running steps
   * finish for `graceMs`, then cancels them; resolves when nothing runs.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#options.log("draining", { running: this.#book.running() });
    for (const link of this.#links) this.#heartbeat(link);
    const deadline = Date.now() + graceMs;
    while (this.#book.running() > 0 && Date.now() < deadline) await sleep(100);
    if (this.#book.running() > 0) this.#book.cancelAll();
    // Cancelled steps report their stages and exit; their last updates get a moment to be acked.
    const settle = Date.now() + 15_000;
    while (this.#book.held.size > 0 && Date.now() < settle) await sleep(100);
    this.#stop.abort();
    for (const link of this.#links) link.outbox?.close();
  }

  /**
   * The worker ends on its own (refused, or a stream ended under
   * --no-reconnect): cancel what runs (interrupt, terminate, kill) and wait
   * until it has exited, so no step outlives its worker. What is still
   * running after that (a step stuck past its cancel) stays in the step
   * records for the next worker process to reap.
   */
  async #endSteps(): Promise<void> {
    if (this.#book.running() === 0) return;
    this.#book.cancelAll();
    await this.#book.idle(30_000);
  }

  /** Runs until stopped (resolves) or refused (throws the refusal). */
  async run(): Promise<void> {
    const loops = this.#links.map((link) => this.#loop(link));
    // The first link to end for good (refused, or its stream ended under --no-reconnect) ends
    // the worker: its steps are stopped and the other links closed.
    let failure: unknown;
    try {
      await Promise.race(loops);
    } catch (error) {
      failure = error;
    }
    if (!this.#stop.signal.aborted) {
      await this.#endSteps();
      this.#stop.abort();
      for (const link of this.#links) link.outbox?.close();
    }
    await Promise.allSettled(loops);
    this.#book.close();
    if (failure) throw failure;
  }

  /** One instance's connection, again and again until stopped or refused. */
  async #loop(link: Link): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      let error: SwampError | undefined;
      try {
        await this.#session(link, () => failures = 0);
      } catch (caught) {
        error = asSwampError(caught);
        if (refusalCodes.has(error.codeName) && !this.#stop.signal.aborted) {
          this.#options.log("refused", {
            code: error.codeName,
            message: error.message,
            hint: error.hint,
            server: link.url.origin,
          });
          throw error;
        }
      }
      if (this.#stop.signal.aborted) return;
      this.#armFence(link);
      if (!this.#options.reconnect) {
        if (error) throw error;
        return;
      }
      failures++;
      const retryInMs = Math.min(5000, 250 * 2 ** Math.min(failures, 5)) *
        (0.75 + Math.random() / 2);
      this.#options.log("disconnected", {
        error: error ? `${error.codeName}: ${error.message}` : "the orchestrator ended the stream",
        retryInMs: Math.round(retryInMs),
        server: link.url.origin,
      });
      await sleep(retryInMs, this.#stop.signal);
    }
  }

  /** The leases that report on `link`. */
  #leasesOf(link: Link): HeldLeaseState<Link>[] {
    return [...this.#book.held.values()].filter((lease) => lease.route === link);
  }

  /** One connection, from hello to its end. */
  async #session(link: Link, onWelcome: () => void): Promise<void> {
    const { remoteClient, remoteTransport } = await import("../../plugins/rpc/connect/mod.ts");
    const o = this.#options;
    const transport = await remoteTransport(link.url, {
      caCert: o.caCert,
      pin: o.pin,
      pingIntervalMs: 5000,
    });
    const client = remoteClient(WorkerService, transport);
    const outbox = new EventQueue<AttachRequest>();
    // Ends the call when the orchestrator falls silent (a partition sends no reset).
    const silent = new AbortController();
    outbox.push(create(AttachRequestSchema, {
      kind: {
        case: "hello",
        value: {
          credential: o.credential,
          machineId: o.machineId,
          name: o.name,
          labels: o.labels,
          concurrency: o.concurrency,
          protocolMin: o.protocol.min,
          protocolMax: o.protocol.max,
          softwareVersion: o.softwareVersion,
          executors: [...o.executors.keys()],
          sessionId: link.sessionId,
          sessionCredential: link.sessionCredential,
          held: this.#leasesOf(link).map((l) => ({
            leaseId: l.assignment.leaseId,
            epoch: l.assignment.epoch,
            lastSeq: l.seq,
          })),
        },
      },
    }));
    let timer: ReturnType<typeof setInterval> | undefined;
    const signal = AbortSignal.any([silent.signal, this.#stop.signal]);
    try {
      for await (const response of client.attach(outbox, { signal })) {
        link.lastHeard = Date.now();
        if (response.kind.case === "welcome") {
          onWelcome();
          link.outbox = outbox;
          this.#welcome(link, response.kind.value);
          timer = setInterval(() => {
            // Every heartbeat is answered: three without a word and the link is gone.
            if (Date.now() - link.lastHeard > 3 * link.heartbeatMs) {
              this.#options.log("silent", {
                sinceMs: Date.now() - link.lastHeard,
                heartbeatMs: link.heartbeatMs,
                server: link.url.origin,
              });
              silent.abort();
              return;
            }
            this.#heartbeat(link);
          }, link.heartbeatMs);
          if (this.#stopping || this.#drained) this.#heartbeat(link);
        } else {
          this.#handle(link, response);
        }
      }
    } finally {
      clearInterval(timer);
      if (link.outbox === outbox) link.outbox = undefined;
      outbox.close();
    }
  }

  #welcome(
    link: Link,
    welcome: Extract<AttachResponse["kind"], { case: "welcome" }>["value"],
  ): void {
    const resumed = welcome.sessionId === link.sessionId;
    link.sessionId = welcome.sessionId;
    link.sessionCredential = welcome.sessionCredential;
    link.heartbeatMs = Math.max(100, welcome.heartbeatIntervalMs || 5000);
    link.graceMs = welcome.graceMs || 30_000;
    link.protocol = welcome.protocolVersion;
    link.loadSent = -1;
    clearTimeout(link.fenceTimer);
    link.fenceTimer = undefined;
    for (const lease of this.#leasesOf(link)) {
      const leaseId = lease.assignment.leaseId;
      const acked = welcome.acked[leaseId];
      if (acked === undefined) {
        this.#options.log("killed", { leaseId, reason: "the orchestrator no longer has it" });
        this.#book.kill(leaseId);
        continue;
      }
      this.#book.acked(leaseId, acked);
      for (const update of lease.unacked) link.push({ case: "update", value: update });
    }
    this.#options.log("connected", {
      workerId: welcome.workerId,
      sessionId: welcome.sessionId,
      resumed,
      server: link.url.origin,
      protocolVersion: welcome.protocolVersion,
      labels: welcome.labels,
      executors: [...this.#options.executors.keys()],
      expireTime: welcome.expireTime
        ? new Date(Number(welcome.expireTime.seconds) * 1000).toISOString()
        : "",
    });
    this.#reportLoad();
  }

  #handle(link: Link, response: AttachResponse): void {
    const { kind } = response;
    switch (kind.case) {
      case "assign":
        this.#options.log("assigned", {
          leaseId: kind.value.leaseId,
          runId: kind.value.runId,
          stepId: kind.value.stepId,
          attempt: kind.value.attempt,
          epoch: String(kind.value.epoch),
        });
        this.#book.start(kind.value, link);
        this.#reportLoad();
        return;
      case "adopt":
        this.#adopt(link, kind.value);
        return;
      case "ack":
        this.#book.acked(kind.value.leaseId, kind.value.seq);
        return;
      case "cancel":
        this.#options.log("cancel", { leaseId: kind.value.leaseId, reason: kind.value.reason });
        this.#book.cancel(kind.value.leaseId);
        return;
      case "kill":
        this.#options.log("killed", { leaseId: kind.value.leaseId, reason: kind.value.reason });
        this.#book.kill(kind.value.leaseId);
        return;
      case "drain":
        this.#options.log("drained", { reason: kind.value.reason, server: link.url.origin });
        if (!this.#drained && this.#links.length > 1) {
          this.#drained = true;
          for (const other of this.#links) if (other !== link) this.#heartbeat(other);
        }
        return;
      case "sessionRenewal":
        link.sessionCredential = kind.value.sessionCredential;
        this.#options.log("renewed", { sessionId: link.sessionId });
        return;
    }
  }

  /**
   * The instance on `link` took the lease's run over from a dead one: the
   * lease reports there from now on, starting with what the dead one had not
   * acknowledged. A lease this worker no longer holds is reported lost.
   */
  #adopt(
    link: Link,
    adopt: Extract<AttachResponse["kind"], { case: "adopt" }>["value"],
  ): void {
    const lease = this.#book.held.get(adopt.leaseId);
    if (!lease || lease.assignment.epoch !== adopt.epoch || lease.killed) {
      this.#options.log("adopted", {
        leaseId: adopt.leaseId,
        held: false,
        server: link.url.origin,
      });
      link.push({
        case: "update",
        value: create(LeaseUpdateSchema, {
          leaseId: adopt.leaseId,
          epoch: adopt.epoch,
          runId: adopt.runId,
          stepId: adopt.stepId,
          attempt: adopt.attempt,
          seq: 1n,
          kind: {
            case: "exited",
            value: {
              exitCode: 1,
              errorCode: "worker_lost",
              error: "the worker no longer holds the lease (it was stopped or killed)",
            },
          },
        }),
      });
      return;
    }
    lease.route = link;
    this.#options.log("adopted", { leaseId: adopt.leaseId, held: true, server: link.url.origin });
    for (const update of lease.unacked) link.push({ case: "update", value: update });
    this.#reportLoad();
  }

  /**
   * Tells each instance (protocol 3) how many steps the worker runs for the
   * others, when that changed: each places by its own leases plus that.
   */
  #reportLoad(): void {
    if (this.#links.length < 2) return;
    const running = [...this.#book.held.values()].filter((l) => !l.finished).map((l) => l.route);
    for (const link of this.#links) {
      if (!link.outbox || link.protocol < multiInstanceProtocol) continue;
      const elsewhere = running.filter((l) => l !== link).length;
      if (elsewhere === link.loadSent) continue;
      link.loadSent = elsewhere;
      link.push({ case: "load", value: { busyElsewhere: elsewhere } });
    }
  }

  /**
   * Disconnected with steps running on this link: unless welcomed back
   * first, stop them once the grace window less one heartbeat has passed
   * since the instance was last heard, which is before it can send them
   * elsewhere (it waits three silent heartbeats, then the whole grace
   * window). A lease another instance took over meanwhile is not stopped.
   */
  #armFence(link: Link): void {
    if (link.fenceTimer !== undefined || link.lastHeard === 0) return;
    if (!this.#leasesOf(link).some((lease) => !lease.finished)) return;
    const at = link.lastHeard + link.graceMs - link.heartbeatMs;
    link.fenceTimer = setTimeout(() => {
      link.fenceTimer = undefined;
      const reason = `worker_lost: the worker was cut off from the orchestrator for ` +
        `${Math.round((Date.now() - link.lastHeard) / 1000)} s, past its grace window, ` +
        "and stopped the step";
      const ids = new Set(this.#leasesOf(link).map((lease) => lease.assignment.leaseId));
      for (const leaseId of this.#book.fence(reason, ids)) {
        this.#options.log("fenced", { leaseId, reason });
      }
    }, Math.max(0, at - Date.now()));
  }

  #heartbeat(link: Link): void {
    link.push({
      case: "heartbeat",
      value: {
        leaseIds: this.#leasesOf(link).map((lease) => lease.assignment.leaseId),
        draining: this.#stopping || this.#drained,
      },
    });
  }
}
