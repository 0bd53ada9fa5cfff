// `swamp serve` under clients that strain it without sending anything wrong:
// one that opens a follow stream and stops reading (so HTTP/2 flow control
// blocks the server's writes to it), and 200 follow streams at once. The server
// keeps answering everyone else, the runs are not held back, and no event is
// lost or doubled on any stream.
import * as http2 from "node:http2";
import { Buffer } from "node:buffer";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type RunEvent, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  RunService,
  WatchRunEventsRequestSchema,
  WatchRunEventsResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import {
  assert,
  assertEquals,
  eventually,
  serveWithTestCa,
  shellStep,
  statusJson,
  type StoreKind,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;
// `hold` waits (at most 60 s) for the test to create `release`; then `n` steps run. `chatty`
// writes far more events than a 1 KiB flow-control window holds.
const hold = shellStep(
  "hold",
  "for i in $(seq 600); do [ -f release ] && break; sleep 0.1; done; cat release",
);
const held = (name: string, n: number) =>
  workflowFile(
    name,
    hold + Array.from({ length: n }, (_, i) => shellStep(`s${i}`, `echo ${i}`, after("hold")))
      .join(""),
  );
const files = {
  "workflows/workflow-chatty.yaml": held("chatty", 60),
  "workflows/workflow-brief.yaml": held("brief", 5),
};

async function serving(store: StoreKind) {
  const served = await serveWithTestCa(store, files, "strain", "operator");
  const { repo, server, cert, token } = served;
  const authorization = `Bearer ${token}`;
  const sessions = new Http2SessionManager(server.url, {}, { ca: cert.caPem });
  const runs = createClient(
    RunService,
    createGrpcTransport({
      baseUrl: server.url,
      sessionManager: sessions,
      nodeOptions: { ca: cert.caPem },
      interceptors: [(next) => (request) => {
        request.header.set("authorization", authorization);
        return next(request);
      }],
    }),
  );
  const options = { timeoutMs: 30_000 };
  return {
    repo,
    server,
    runs,
    ca: cert.caPem,
    authorization,
    options,
    /** Submits `workflow` and waits until its `hold` step runs. */
    async heldRun(workflow: string): Promise<string> {
      const runId = (await runs.submitRun({ workflow }, options)).run!.id;
      await eventually("`hold` to run", async () => {
        const { run } = await runs.getRun({ runId }, options);
        return run?.steps[0].status === StepStatus.RUNNING ? true : undefined;
      });
      return runId;
    },
    // Written whole, then renamed: the step tests that the file exists and then reads it.
    release: async () => {
      await Deno.writeTextFile(`${repo.root}/release.tmp`, "released\n");
      await Deno.rename(`${repo.root}/release.tmp`, `${repo.root}/release`);
    },
    /** Every event of a run, read without following (the reference the streams are held to). */
    allEvents: (runId: string) => collect(runs, runId, false, options),
    /** The run succeeded with all its `steps`, through the server and in the local CLI's reading. */
    async assertIntact(runId: string, steps: number) {
      const { run } = await runs.getRun({ runId }, options);
      assertEquals(run?.status, RunStatus.SUCCEEDED);
      assertEquals(run?.steps.length, steps);
      assert(run?.steps.every((s) => s.status === StepStatus.SUCCEEDED));
      const local = await statusJson(repo, runId);
      assertEquals(local.status, "succeeded");
      assertEquals(local.steps.filter((s) => s.status === "succeeded").length, steps);
      assertEquals(local.steps[0].outputs?.stdout, "released\n");
      assertEquals(server.events.filter((e) => e.event === "error"), []);
    },
    async [Symbol.asyncDispose]() {
      sessions.abort();
      await served[Symbol.asyncDispose]();
    },
  };
}

/** The events are 1, 2, …, n with nothing missing or doubled, ending in the run's success. */
function assertWhole(events: RunEvent[], reference: RunEvent[], what: string) {
  assertEquals(events.map((e) => e.seq), events.map((_, i) => BigInt(i + 1)), what);
  const bytes = (list: RunEvent[]) => list.map((e) => toBinary(RunEventSchema, e).join(","));
  assertEquals(bytes(events), bytes(reference), what);
  const last = events.at(-1)?.payload;
  assertEquals(last?.case === "runStatusChanged" && last.value.to, RunStatus.SUCCEEDED, what);
}

/** A gRPC WatchRunEvents follow call on its own raw HTTP/2 session whose window is 1 KiB. */
function slowWatcher(url: string, ca: string, authorization: string, runId: string) {
  const session = http2.connect(url, { ca, settings: { initialWindowSize: 1024 } });
  session.on("error", () => {}); // destroyed on purpose by one test
  const request = toBinary(
    WatchRunEventsRequestSchema,
    create(WatchRunEventsRequestSchema, { runId, follow: true }),
  );
  const body = new Uint8Array(5 + request.length);
  new DataView(body.buffer).setUint32(1, request.length);
  body.set(request, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/swamp.v1.RunService/WatchRunEvents",
    "content-type": "application/grpc",
    te: "trailers",
    authorization,
  });
  stream.on("error", () => {});
  stream.end(body);
  // Nothing reads it: no 'data' listener, paused, so no WINDOW_UPDATE is ever sent.
  stream.pause();
  return {
    session,
    stream,
    /** Reads what the server queued, to the end; the events and the grpc-status. */
    readToEnd(): Promise<{ events: RunEvent[]; grpcStatus?: string }> {
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let grpcStatus: string | undefined;
        const timer = setTimeout(() => reject(new Error("the slow stream did not end")), 60_000);
        stream.on("trailers", (t) => grpcStatus = t["grpc-status"] as string);
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          clearTimeout(timer);
          const all = Buffer.concat(chunks);
          const events: RunEvent[] = [];
          for (let at = 0; at < all.length;) {
            const length = all.readUInt32BE(at + 1);
            const message = all.subarray(at + 5, at + 5 + length);
            events.push(fromBinary(WatchRunEventsResponseSchema, message).event!);
            at += 5 + length;
          }
          resolve({ events, grpcStatus });
        });
        stream.resume();
      });
    },
  };
}

/**
 * Every event of a run from a WatchRunEvents stream, resumed from the last seq
 * received when the stream breaks in transit: Deno's node:http2 *client*
 * sometimes ends a stream with "Premature close" after the server sent
 * everything (never seen with Node.js clients), and swamp's own client
 * resumes the same way (plugins/rpc/connect/client.ts).
 */
async function collect(
  runs: ReturnType<typeof createClient<typeof RunService>>,
  runId: string,
  follow: boolean,
  options: { timeoutMs: number },
  into: RunEvent[] = [],
): Promise<RunEvent[]> {
  for (let resumes = 0;; resumes++) {
    try {
      const afterSeq = into.at(-1)?.seq ?? 0n;
      for await (const m of runs.watchRunEvents({ runId, follow, afterSeq }, options)) {
        into.push(m.event!);
      }
      return into;
    } catch (error) {
      if (resumes >= 5 || !/premature close/i.test(String(error))) throw error;
    }
  }
}

for (const store of storeKinds) {
  Deno.test(`[${store}] api slow clients: a follow stream nobody reads stalls only itself; the server and the run go on`, async () => {
    await using env = await serving(store);
    const runId = await env.heldRun("chatty");
    const stalled = slowWatcher(env.server.url, env.ca, env.authorization, runId);
    const dropped = slowWatcher(env.server.url, env.ca, env.authorization, runId);
    try {
      await env.release();
      // The run is not held back by its watchers, and other calls are answered meanwhile.
      await eventually("the run to succeed", async () => {
        const { run } = await env.runs.getRun({ runId }, env.options);
        return run?.status === RunStatus.SUCCEEDED ? true : undefined;
      }, 60_000);
      // The unread stream's window is used up: the server has more for it and cannot send it.
      await eventually(
        "the unread stream's window to fill",
        () => Promise.resolve(stalled.stream.state.localWindowSize === 0 ? true : undefined),
      );
      const reference = await env.allEvents(runId);
      assert(reference.length > 100, `only ${reference.length} events`);
      assertWhole(reference, reference, "a fresh stream");
      const listed = await env.runs.listRuns({}, env.options);
      assertEquals(listed.runs.map((r) => r.id), [runId]);
      // One stalled client goes away without a word; the other finally reads, and misses nothing.
      dropped.session.destroy();
      const { events, grpcStatus } = await stalled.readToEnd();
      assertEquals(grpcStatus, "0");
      assertWhole(events, reference, "the stream read late");
      await env.assertIntact(runId, 61);
    } finally {
      stalled.session.destroy();
      dropped.session.destroy();
    }
  });

  Deno.test(`[${store}] api slow clients: 200 follow streams at once each get every event of the run, in order`, async () => {
    await using env = await serving(store);
    const runId = await env.heldRun("brief");
    const streams = Array.from({ length: 200 }, () => [] as RunEvent[]);
    const done = Promise.all(
      streams.map((events) =>
        collect(env.runs, runId, true, { ...env.options, timeoutMs: 120_000 }, events)
      ),
    );
    done.catch(() => {}); // awaited below; a failure before then must not go unhandled
    // Every stream is open and has been sent the events so far before the run goes on.
    await eventually(
      "all 200 streams to start",
      () => Promise.resolve(streams.every((events) => events.length > 0) ? true : undefined),
      60_000,
    );
    // The server answers other calls while holding them.
    const { run } = await env.runs.getRun({ runId }, env.options);
    assertEquals(run?.status, RunStatus.RUNNING);
    await env.release();
    await done;
    const reference = await env.allEvents(runId);
    streams.forEach((events, i) => assertWhole(events, reference, `stream ${i}`));
    await env.assertIntact(runId, 6);
  });
}
