// The session credential, through WorkerHub.attach in-process: a real file
// store, a real minted worker token, the worker's side played by the test.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type AttachRequest,
  AttachRequestSchema,
  type AttachResponse,
} from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { tempFileStore } from "../../../test/helpers/stores.ts";
import { assert, assertEquals, eventually } from "../../../test/helpers/mod.ts";
import { EventQueue } from "../../exec/event_queue.ts";
import type { Clock } from "../../ports/clock.ts";
import { ActorKind, type CallContext, Role } from "../call_context.ts";
import { localWorkerService } from "../worker_service.ts";
import { WorkerHub } from "./hub.ts";
import type { DispatchEvent, HubEvent } from "./types.ts";

class StepClock implements Clock {
  time = Date.parse("2026-12-04T09:00:00Z");
  now(): Date {
    return new Date(this.time);
  }
}

const adminCall: CallContext = {
  principal: { name: "ada", kind: ActorKind.OS_USER, role: Role.ADMIN },
  signal: new AbortController().signal,
};

type Kind = AttachResponse["kind"];
type Of<C> = Extract<Kind, { case: C }> extends { value: infer V } ? V : never;
type Welcome = Of<"welcome">;

/** One control stream as a worker sees it. */
class Stream {
  readonly #requests = new EventQueue<AttachRequest>();
  readonly #responses: AsyncGenerator<AttachResponse>;
  readonly seen: Kind[] = [];

  constructor(hub: WorkerHub) {
    this.#responses = hub.attach(this.#requests, new AbortController().signal);
  }

  send(kind: MessageInitShape<typeof AttachRequestSchema>["kind"]): void {
    this.#requests.push(create(AttachRequestSchema, { kind }));
  }

  /** The next message of case `name` (others are kept in `seen`); fails when the stream ends. */
  async next<C extends NonNullable<Kind["case"]>>(
    name: C,
  ): Promise<Of<C>> {
    for (;;) {
      const next = await this.#responses.next();
      if (next.done) throw new Error(`the stream ended before a ${name}: ${show(this.seen)}`);
      this.seen.push(next.value.kind);
      if (next.value.kind.case === name) {
        return next.value.kind.value as Of<C>;
      }
    }
  }

  /** Ends the worker's side and reads the hub's to its end (the hub then counts it detached). */
  async close(): Promise<void> {
    this.#requests.close();
    for (;;) {
      const next = await this.#responses.next().catch(() => ({ done: true }));
      if (next.done) return;
    }
  }
}

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);

async function setup(sessionRenewMs?: number) {
  const temp = await tempFileStore();
  const clock = new StepClock();
  const minted = await localWorkerService(() => Promise.resolve(temp.store), clock)
    .createWorkerToken({ name: "box" }, adminCall);
  const events: HubEvent[] = [];
  // No ticks: the clock is the test's, and nothing here waits on the hub's timer.
  const hub = new WorkerHub({
    tokens: temp.store,
    leases: temp.store,
    clock,
    tickMs: 3_600_000,
    sessionRenewMs,
    onEvent: (event) => events.push(event),
  });
  const hello = (session?: { id: string; credential: string; held?: Held[] }) => {
    const stream = new Stream(hub);
    stream.send({
      case: "hello",
      value: {
        credential: minted.credential,
        machineId: "machine-1",
        concurrency: 1,
        protocolMin: 1,
        protocolMax: 1,
        sessionId: session?.id ?? "",
        sessionCredential: session?.credential ?? "",
        held: session?.held ?? [],
      },
    });
    return stream;
  };
  return {
    hub,
    store: temp.store,
    clock,
    events,
    hello,
    async [Symbol.asyncDispose]() {
      hub.close();
      await temp[Symbol.asyncDispose]();
    },
  };
}

/** Dispatches a step the connected worker gets; its events are collected in the background. */
function dispatchStep(hub: WorkerHub) {
  const events: DispatchEvent[] = [];
  const abort = new AbortController();
  const done = (async () => {
    for await (
      const event of hub.dispatch({
        work: {
          runId: "run-1",
          stepId: "s1",
          command: { script: "true" },
          env: {},
          graceMs: 100,
          outputLimitBytes: 1024,
        },
        attempt: 1,
        placement: {},
      }, abort.signal)
    ) events.push(event);
  })();
  return { events, done, abort };
}

type Held = { leaseId: string; epoch: bigint; lastSeq: bigint };

const heldOf = (assign: { leaseId: string; epoch: bigint }): Held[] => [
  { leaseId: assign.leaseId, epoch: assign.epoch, lastSeq: 0n },
];

Deno.test("session credential: a reconnect with the welcome's credential resumes the session and its lease", async () => {
  await using s = await setup();
  const first = s.hello();
  const welcome: Welcome = await first.next("welcome");
  assert(/^[A-Za-z0-9_-]{43}$/.test(welcome.sessionCredential), "a fresh 32-byte base64url secret");
  const step = dispatchStep(s.hub);
  const assign = await first.next("assign");
  await first.close();

  const again = s.hello({
    id: welcome.sessionId,
    credential: welcome.sessionCredential,
    held: heldOf(assign),
  });
  const resumed = await again.next("welcome");
  assertEquals(resumed.sessionId, welcome.sessionId);
  assertEquals(resumed.acked, { [assign.leaseId]: 0n });
  assert(resumed.sessionCredential !== welcome.sessionCredential, "a different one");
  assert(s.events.some((e) => e.event === "worker_connected" && e.resumed), show(s.events));
  assert(!s.events.some((e) => e.event === "worker_session_mismatch"), show(s.events));
  assert(!step.events.some((e) => e.type === "workerLost"), show(step.events));
  again.send({
    case: "update",
    value: {
      leaseId: assign.leaseId,
      epoch: assign.epoch,
      runId: assign.runId,
      stepId: assign.stepId,
      attempt: assign.attempt,
      seq: 1n,
      kind: { case: "exited", value: { exitCode: 0 } },
    },
  });
  await step.done;
  assertEquals(step.events.at(-1)?.type, "exited");
  await again.close();
  // The release is written after the exit is reported; the store closes after it.
  await eventually(
    "the lease released",
    async () => (await s.store.listLeases({ activeOnly: true })).length === 0 ? true : undefined,
  );
});

Deno.test("session credential: the session id with a wrong credential starts a new session and kills the held lease", async () => {
  await using s = await setup();
  const first = s.hello();
  const welcome = await first.next("welcome");
  const step = dispatchStep(s.hub);
  const assign = await first.next("assign");

  // While the session is connected, a hello without its credential is another worker.
  const intruder = s.hello({ id: welcome.sessionId, credential: "", held: heldOf(assign) });
  const refused = await intruder.next("welcome").then(() => undefined, (error) => error);
  assertEquals(refused?.codeName, "already_connected");
  await first.close();

  const forged = "A".repeat(43);
  const other = s.hello({ id: welcome.sessionId, credential: forged, held: heldOf(assign) });
  const next = await other.next("welcome");
  assert(next.sessionId !== welcome.sessionId, "a different one");
  assertEquals(next.acked, {});
  const kill = await other.next("kill");
  assertEquals(kill.leaseId, assign.leaseId);
  await step.done;
  assertEquals(step.events.at(-1)?.type, "workerLost");

  const mismatches = s.events.filter((e) => e.event === "worker_session_mismatch");
  assertEquals(mismatches.length, 2, show(s.events));
  const logged = show(s.events);
  for (const secret of [welcome.sessionCredential, next.sessionCredential, forged]) {
    assert(!logged.includes(secret), "a session credential reached a hub event");
  }
  await other.close();
});

Deno.test("session credential: renewed on heartbeats; the renewed one resumes, an older one does not", async () => {
  await using s = await setup(1000);
  const first = s.hello();
  const welcome = await first.next("welcome");
  const renewals: string[] = [];
  for (let i = 0; i < 2; i++) {
    s.clock.time += 1000;
    first.send({ case: "heartbeat", value: {} });
    renewals.push((await first.next("sessionRenewal")).sessionCredential);
  }
  assertEquals(new Set([welcome.sessionCredential, ...renewals]).size, 3);
  await first.close();

  const renewed = renewals[1];
  const back = s.hello({ id: welcome.sessionId, credential: renewed });
  assertEquals((await back.next("welcome")).sessionId, welcome.sessionId);
  await back.close();
  // The credential a hello resumed with stays valid beside the welcome's, in case that
  // welcome never reached the worker.
  const lostWelcome = s.hello({ id: welcome.sessionId, credential: renewed });
  assertEquals((await lostWelcome.next("welcome")).sessionId, welcome.sessionId);
  await lostWelcome.close();

  // Two renewals and two welcomes on, the first welcome's credential is long gone.
  const stale = s.hello({ id: welcome.sessionId, credential: welcome.sessionCredential });
  assert((await stale.next("welcome")).sessionId !== welcome.sessionId, "a new session");
  assert(s.events.some((e) => e.event === "worker_session_mismatch"), show(s.events));
  await stale.close();
});
