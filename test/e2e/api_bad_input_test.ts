// `swamp serve` given what a careless or hostile client sends: bodies that do
// not parse, paths that do not exist, messages over the limit, run ids that
// match nothing. Each is refused with the right status, and afterwards the
// server still answers and the run it already had is intact.
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ErrorCode, ErrorDetailSchema } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  GetRunRequestSchema,
  RunService,
  SubmitRunRequestSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { grpcJsClient, grpcTlsCredentials } from "../helpers/grpc_js.ts";
import {
  assert,
  assertEquals,
  eventually,
  serveWithTestCa,
  shellStep,
  statusJson,
  within,
  workflowFile,
} from "../helpers/mod.ts";

const files = {
  "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("greet", "echo hello")),
};

/** A repository with one finished run, an approver token and `swamp serve` with a CA-signed cert. */
async function serving() {
  const served = await serveWithTestCa("file", files, "careless", "approver");
  const { repo, server, cert, token } = served;
  const ca = cert.caPem;
  const headers = { authorization: `Bearer ${token}` };
  const http = Deno.createHttpClient({ caCerts: [ca] });
  const sessions = new Http2SessionManager(server.url, {}, { ca });
  const runs = createClient(
    RunService,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      sessionManager: sessions,
      nodeOptions: { ca },
      interceptors: [(next) => (request) => {
        request.header.set("authorization", headers.authorization);
        return next(request);
      }],
    }),
  );
  const submitted = await runs.submitRun({ workflow: "quick" }, { timeoutMs: 30_000 });
  const runId = submitted.run!.id;
  await eventually("the first run to succeed", async () => {
    const { run } = await runs.getRun({ runId }, { timeoutMs: 30_000 });
    return run?.status === RunStatus.SUCCEEDED ? true : undefined;
  });
  return {
    repo,
    server,
    ca,
    headers,
    runs,
    runId,
    address: server.url.replace(/^https:\/\//, ""),
    /** A POST through Deno's fetch (HTTP/2 over TLS); the status and the body, as JSON if it is. */
    async post(method: string, body: BodyInit, contentType = "application/json") {
      const response = await fetch(`${server.url}/${method}`, {
        method: "POST",
        client: http,
        signal: AbortSignal.timeout(60_000),
        headers: { "content-type": contentType, ...headers },
        body,
      });
      const text = await response.text();
      let json: { code?: string; message?: string; details?: { type: string }[] } | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, text, json };
    },
    /** The first run still answers through the server, reads the same locally, and nothing logged an error. */
    async assertIntact() {
      const { run } = await runs.getRun({ runId }, { timeoutMs: 30_000 });
      assertEquals(run?.status, RunStatus.SUCCEEDED);
      assertEquals(run?.steps.map((s) => [s.id, s.status]), [["main/greet", StepStatus.SUCCEEDED]]);
      const local = await statusJson(repo, runId);
      assertEquals(local.status, "succeeded");
      assertEquals(local.steps.map((s) => [s.id, s.status, s.outputs?.stdout]), [
        ["main/greet", "succeeded", "hello\n"],
      ]);
      const listed = await runs.listRuns({}, { timeoutMs: 30_000 });
      assertEquals(listed.runs.map((r) => r.id), [runId], "a refused request created a run");
      assertEquals(server.events.filter((e) => e.event === "error"), []);
    },
    async [Symbol.asyncDispose]() {
      sessions.abort();
      http.close();
      await served[Symbol.asyncDispose]();
    },
  };
}

/** One gRPC message frame: flag 0, a 4-byte big-endian length, the bytes. */
function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + bytes.length);
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** A gRPC call on a raw node:http2 session: its HTTP status and grpc-status (headers or trailers). */
function rawGrpc(url: string, ca: string, auth: string, path: string, body: Uint8Array) {
  const session = http2.connect(url, { ca });
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    authorization: auth,
  });
  stream.end(body);
  stream.resume();
  return new Promise<{ status: number; grpcStatus?: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer to ${path}`));
    }, 30_000);
    let status = 0;
    let grpcStatus: string | undefined;
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      grpcStatus = h["grpc-status"] as string | undefined;
    });
    stream.on("trailers", (t) => grpcStatus ??= t["grpc-status"] as string | undefined);
    stream.on("error", reject);
    stream.on("close", () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, grpcStatus });
    });
  });
}

Deno.test("api bad input: bodies that do not parse are refused and change nothing", async () => {
  await using env = await serving();
  const getRun = "swamp.v1.RunService/GetRun";
  for (const body of ['{"runId": ', "", '{"runId": 5}', "[1, 2]"]) {
    const answer = await env.post(getRun, body);
    assertEquals([answer.status, answer.json?.code], [400, "invalid_argument"], body);
  }
  const wrongType = await env.post(getRun, "{}", "text/plain");
  assertEquals(wrongType.status, 415);
  // Not protobuf: refused (see the ignored test below for the code it should carry).
  const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
  const binary = await env.post("swamp.v1.RunService/SubmitRun", garbage, "application/proto");
  assert(binary.status >= 400 && binary.json?.code, `${binary.status} ${binary.text}`);
  // gRPC: a frame whose length promises more than the body holds.
  const truncated = new Uint8Array([0, 0, 0, 1, 0, 0x0a]);
  const raw = await rawGrpc(
    env.server.url,
    env.ca,
    env.headers.authorization,
    "/swamp.v1.RunService/SubmitRun",
    truncated,
  );
  assertEquals([raw.status, raw.grpcStatus], [200, "3"]); // invalid_argument
  await env.assertIntact();
});

// BUG (plugins/rpc/connect/server.ts, the connectNodeAdapter's default binary parsing): a body
// that is not protobuf (application/proto, or a gRPC frame holding 0xff 0xff 0xff 0xff 0x0f) is
// answered HTTP 500 `internal` / grpc-status 13 with "parse binary: illegal tag", and no
// ErrorDetail. `internal` is the code swamp keeps for its own bugs (exit 70, "report it"), while
// malformed JSON is `invalid_argument` (400). Expected: invalid_argument for both encodings.
Deno.test({
  name: "api bad input: a body that is not protobuf is invalid_argument, as malformed JSON is",
  ignore: true,
  async fn() {
    await using env = await serving();
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
    const binary = await env.post("swamp.v1.RunService/GetRun", garbage, "application/proto");
    assertEquals([binary.status, binary.json?.code], [400, "invalid_argument"]);
    const raw = await rawGrpc(
      env.server.url,
      env.ca,
      env.headers.authorization,
      "/swamp.v1.RunService/GetRun",
      frame(garbage),
    );
    assertEquals(raw.grpcStatus, "3");
    await env.assertIntact();
  },
});

Deno.test("api bad input: unknown methods and services are 404 (gRPC: unimplemented)", async () => {
  await using env = await serving();
  for (const path of ["swamp.v1.RunService/NoSuch", "swamp.v1.NoService/GetRun", "nonsense"]) {
    const answer = await env.post(path, "{}");
    assertEquals(answer.status, 404, path);
  }
  const viaGet = await fetch(`${env.server.url}/swamp.v1.RunService/SubmitRun?message=%7B%7D`, {
    headers: env.headers,
    client: Deno.createHttpClient({ caCerts: [env.ca] }),
    signal: AbortSignal.timeout(30_000),
  });
  await viaGet.body?.cancel();
  assertEquals(viaGet.status, 405, "SubmitRun is not a GET");
  // A stock gRPC client calling a method the server does not have gets UNIMPLEMENTED.
  const client = new grpc.Client(env.address, grpcTlsCredentials(env.ca), {
    "grpc.ssl_target_name_override": "localhost",
  });
  const metadata = new grpc.Metadata();
  metadata.set("authorization", env.headers.authorization);
  const code = await new Promise<number>((resolve) => {
    client.makeUnaryRequest(
      "/swamp.v1.RunService/NoSuch",
      (value: Uint8Array) => Buffer.from(value),
      (bytes: Buffer) => bytes,
      new Uint8Array(),
      metadata,
      { deadline: Date.now() + 30_000 },
      (error) => resolve(error?.code ?? 0),
    );
  });
  client.close();
  assertEquals(code, grpc.status.UNIMPLEMENTED);
  await env.assertIntact();
});

Deno.test("api bad input: a 17 MiB SubmitRun is resource_exhausted in every encoding; 5 MiB is read", async () => {
  await using env = await serving();
  const big = { workflow: "quick", inputs: { blob: "x".repeat(17 * 1024 * 1024) } };
  const json = await env.post("swamp.v1.RunService/SubmitRun", JSON.stringify(big));
  assertEquals([json.status, json.json?.code], [429, "resource_exhausted"]);
  const bytes = toBinary(SubmitRunRequestSchema, create(SubmitRunRequestSchema, big));
  assert(bytes.length > 17 * 1024 * 1024);
  const binary = await env.post("swamp.v1.RunService/SubmitRun", bytes, "application/proto");
  assertEquals([binary.status, binary.json?.code], [429, "resource_exhausted"]);
  const runs = grpcJsClient(RunService, env.address, grpcTlsCredentials(env.ca));
  try {
    // grpc-js calls have no deadline of their own here: each wait is bounded.
    const error = await within(60_000, "SubmitRun", runs.submitRun(big, env.headers)).then(
      () => undefined,
      (e) => e,
    );
    assertEquals((error as grpc.ServiceError | undefined)?.code, grpc.status.RESOURCE_EXHAUSTED);
    // Over gRPC's customary 4 MiB but under swamp's 16 MiB: read and answered.
    const listed = await within(
      60_000,
      "ListRuns",
      runs.listRuns({ workflow: "y".repeat(5 * 1024 * 1024) }, env.headers),
    );
    assertEquals(listed.runs, []);
  } finally {
    runs.close();
  }
  await env.assertIntact();
});

Deno.test("api bad input: run ids that match nothing are not_found (too short: usage), streams included", async () => {
  await using env = await serving();
  const failure = async (call: () => Promise<unknown>) => {
    const error = await call().then(() => undefined, (e) => ConnectError.from(e));
    assert(error, "the call succeeded");
    const [detail] = error.findDetails(ErrorDetailSchema);
    return [error.code, detail?.code];
  };
  const drain = async (stream: AsyncIterable<unknown>) => {
    for await (const _ of stream) { /* an error ends it */ }
  };
  const options = { timeoutMs: 30_000 };
  for (const runId of ["ffffffff-ffff-4fff-8fff-ffffffffffff", "ffff", "ab"]) {
    const expected = runId === "ab"
      ? [Code.InvalidArgument, ErrorCode.USAGE]
      : [Code.NotFound, ErrorCode.NOT_FOUND];
    const calls: [string, () => Promise<unknown>][] = [
      ["GetRun", () => env.runs.getRun({ runId }, options)],
      ["CancelRun", () => env.runs.cancelRun({ runId, noWait: true }, options)],
      ["ApproveStep", () => env.runs.approveStep({ runId }, options)],
      ["ResumeRun", () => env.runs.resumeRun({ runId }, options)],
      ["Watch", () => drain(env.runs.watchRunEvents({ runId }, options))],
      ["Watch+follow", () => drain(env.runs.watchRunEvents({ runId, follow: true }, options))],
      ["ReadLogs", () => drain(env.runs.readLogs({ runId, follow: true }, options))],
    ];
    for (const [name, call] of calls) {
      assertEquals(await failure(call), expected, `${name} ${runId}`);
    }
  }
  const raw = await rawGrpc(
    env.server.url,
    env.ca,
    env.headers.authorization,
    "/swamp.v1.RunService/GetRun",
    frame(toBinary(GetRunRequestSchema, create(GetRunRequestSchema, { runId: "ffffffff" }))),
  );
  assertEquals([raw.status, raw.grpcStatus], [200, "5"]);
  await env.assertIntact();
});
