// The worker's side of the control channel: dial the orchestrator, say
// hello (resuming the session and naming the leases still held after a
// reconnect), run what is assigned, report it, heartbeat, and reconnect
// with backoff when the connection drops. A refusal (token_*, pin_mismatch,
// protocol_mismatch, already_connected, …) ends the worker: retrying would
// be refused again.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type AttachRequest,
  AttachRequestSchema,
  type AttachResponse,
} from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  asSwampError,
  EventQueue,
  type Executor,
  type ProtocolRange,
  type SwampError,
} from "../../runtime/mod.ts";
import { LeaseBook } from "./leases.ts";
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
   * The orchestrator's URL, or several instances' on one shared store (0027):
   * the worker stays on the one it is connected to while it answers, and when
   * it does not, tries the list from the top.
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
  readonly #book: LeaseBook;
  #outbox?: EventQueue<AttachRequest>;
  #sessionId = "";
  /**
   * What proves a reconnect comes from this process (the session id is no
   * secret). Only ever in memory: a restarted process starts a new session.
   */
  #sessionCredential = "";
  #heartbeatMs = 5000;
  #graceMs = 30_000;
  /** When the orchestrator last said anything (0: never welcomed). */
  #lastHeard = 0;
  #fenceTimer?: ReturnType<typeof setTimeout>;
  #stopping = false;
  readonly #stop = new AbortController();
  /** Which of the URLs it dials now. */
  #at = 0;

  /** The orchestrator instance this worker talks to now (the last one it connected to). */
  get server(): URL {
    return this.#options.urls[this.#at];
  }

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#book = new LeaseBook(
      options.executors,
      {
        send: (update) => this.#push({ case: "update", value: update }),
        finished: (lease, exited) =>
          options.log("finished", {
            leaseId: lease.assignment.leaseId,
            runId: lease.assignment.runId,
            stepId: lease.assignment.stepId,
            exitCode: exited.exitCode,
            cancelled: exited.cancelled,
          }),
      },
      options.workDir,
      options.records,
      options.extensions,
    );
  }

  /**
   * Stops taking work (the orchestrator is told at once), lets running steps
   * finish for `graceMs`, then cancels them; resolves when nothing runs.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#options.log("draining", { running: this.#book.running() });
    this.#heartbeat();
    const deadline = Date.now() + graceMs;
    while (this.#book.running() > 0 && Date.now() < deadline) await sleep(100);
    if (this.#book.running() > 0) this.#book.cancelAll();
    // Cancelled steps report their stages and exit; their last updates get a moment to be acked.
    const settle = Date.now() + 15_000;
    while (this.#book.held.size > 0 && Date.now() < settle) await sleep(100);
    this.#stop.abort();
    this.#outbox?.close();
  }

  /**
   * The worker ends on its own (refused, or the stream ended under
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
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      let welcomed = false;
      let error: SwampError | undefined;
      try {
        welcomed = await this.#session(() => failures = 0);
      } catch (caught) {
        error = asSwampError(caught);
        if (refusalCodes.has(error.codeName)) {
          this.#options.log("refused", {
            code: error.codeName,
            message: error.message,
            hint: error.hint,
          });
          await this.#endSteps();
          throw error;
        }
      }
      if (this.#stop.signal.aborted) return;
      this.#armFence();
      if (!this.#options.reconnect) {
        await this.#endSteps();
        if (error) throw error;
        return;
      }
      if (!welcomed) {
        failures++;
        // Unreachable or gone: the next instance in the list (from the top after the last).
        this.#at = (this.#at + 1) % this.#options.urls.length;
      }
      const retryInMs = Math.min(5000, 250 * 2 ** Math.min(failures, 5)) *
        (0.75 + Math.random() / 2);
      this.#options.log("disconnected", {
        error: error ? `${error.codeName}: ${error.message}` : "the orchestrator ended the stream",
        retryInMs: Math.round(retryInMs),
      });
      await sleep(retryInMs, this.#stop.signal);
    }
  }

  /** One connection, from hello to its end; true when it was welcomed. */
  async #session(onWelcome: () => void): Promise<boolean> {
    const { remoteClient, remoteTransport } = await import("../../plugins/rpc/connect/mod.ts");
    const o = this.#options;
    const transport = await remoteTransport(o.urls[this.#at], {
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
          sessionId: this.#sessionId,
          sessionCredential: this.#sessionCredential,
          held: [...this.#book.held.values()].map((l) => ({
            leaseId: l.assignment.leaseId,
            epoch: l.assignment.epoch,
            lastSeq: l.seq,
          })),
        },
      },
    }));
    let welcomed = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      for await (const response of client.attach(outbox, { signal: silent.signal })) {
        this.#lastHeard = Date.now();
        if (response.kind.case === "welcome") {
          welcomed = true;
          onWelcome();
          this.#outbox = outbox;
          this.#welcome(response.kind.value);
          timer = setInterval(() => {
            // Every heartbeat is answered: three without a word and the link is gone.
            if (Date.now() - this.#lastHeard > 3 * this.#heartbeatMs) {
              this.#options.log("silent", {
                sinceMs: Date.now() - this.#lastHeard,
                heartbeatMs: this.#heartbeatMs,
              });
              silent.abort();
              return;
            }
            this.#heartbeat();
          }, this.#heartbeatMs);
          if (this.#stopping) this.#heartbeat();
        } else {
          this.#handle(response);
        }
      }
    } finally {
      clearInterval(timer);
      if (this.#outbox === outbox) this.#outbox = undefined;
      outbox.close();
    }
    return welcomed;
  }

  #welcome(welcome: Extract<AttachResponse["kind"], { case: "welcome" }>["value"]): void {
    const resumed = welcome.sessionId === this.#sessionId;
    this.#sessionId = welcome.sessionId;
    this.#sessionCredential = welcome.sessionCredential;
    this.#heartbeatMs = Math.max(100, welcome.heartbeatIntervalMs || 5000);
    this.#graceMs = welcome.graceMs || 30_000;
    clearTimeout(this.#fenceTimer);
    this.#fenceTimer = undefined;
    for (const [leaseId, lease] of [...this.#book.held]) {
      const acked = welcome.acked[leaseId];
      if (acked === undefined) {
        this.#options.log("killed", { leaseId, reason: "the orchestrator no longer has it" });
        this.#book.kill(leaseId);
        continue;
      }
      this.#book.acked(leaseId, acked);
      for (const update of lease.unacked) this.#push({ case: "update", value: update });
    }
    this.#options.log("connected", {
      workerId: welcome.workerId,
      sessionId: welcome.sessionId,
      resumed,
      server: this.#options.urls[this.#at].origin,
      protocolVersion: welcome.protocolVersion,
      labels: welcome.labels,
      executors: [...this.#options.executors.keys()],
      expireTime: welcome.expireTime
        ? new Date(Number(welcome.expireTime.seconds) * 1000).toISOString()
        : "",
    });
  }

  #handle(response: AttachResponse): void {
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
        this.#book.start(kind.value);
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
        this.#options.log("drained", { reason: kind.value.reason });
        return;
      case "sessionRenewal":
        this.#sessionCredential = kind.value.sessionCredential;
        this.#options.log("renewed", { sessionId: this.#sessionId });
        return;
    }
  }

  /**
   * Disconnected with steps running: unless welcomed back first, stop them
   * once the grace window less one heartbeat has passed since the
   * orchestrator was last heard, which is before it can send them elsewhere
   * (it waits three silent heartbeats, then the whole grace window).
   */
  #armFence(): void {
    if (this.#fenceTimer !== undefined || this.#lastHeard === 0 || this.#book.running() === 0) {
      return;
    }
    const at = this.#lastHeard + this.#graceMs - this.#heartbeatMs;
    this.#fenceTimer = setTimeout(() => {
      this.#fenceTimer = undefined;
      const reason = `worker_lost: the worker was cut off from the orchestrator for ` +
        `${Math.round((Date.now() - this.#lastHeard) / 1000)} s, past its grace window, ` +
        "and stopped the step";
      for (const leaseId of this.#book.fence(reason)) {
        this.#options.log("fenced", { leaseId, reason });
      }
    }, Math.max(0, at - Date.now()));
  }

  #heartbeat(): void {
    this.#push({
      case: "heartbeat",
      value: { leaseIds: [...this.#book.held.keys()], draining: this.#stopping },
    });
  }

  #push(kind: MessageInitShape<typeof AttachRequestSchema>["kind"]): void {
    this.#outbox?.push(create(AttachRequestSchema, { kind }));
  }
}
