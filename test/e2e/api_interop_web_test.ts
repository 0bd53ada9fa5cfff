// `swamp serve` spoken to as a browser or a Connect client would: a hand-framed
// gRPC-web request from fetch, and Connect's own transports (Connect and gRPC
// over HTTP/2, gRPC-web over HTTP/1.1), over TLS with a certificate from a test
// CA made here. (Stock grpc-js and curl are in api_interop_test.ts.)
import * as https from "node:https";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { ErrorCode, ErrorDetailSchema } from "../../proto/gen/swamp/v1/errors_pb.ts";
import {
  GetRunRequestSchema,
  GetRunResponseSchema,
  RunService,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import {
  assert,
  assertEquals,
  mintToken,
  repoWith,
  serveWithTestCa,
  shellStep,
  startServe,
  workflowFile,
} from "../helpers/mod.ts";

const files = {
  "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("greet", "echo hello")),
};

/** A repository, an operator token, a test CA and a `swamp serve` with a certificate it signed. */
async function serving() {
  const served = await serveWithTestCa("file", files, "interop", "operator");
  return {
    ...served,
    auth: { authorization: `Bearer ${served.token}` },
    address: served.server.url.replace(/^https:\/\//, ""),
  };
}

/** One gRPC-web message frame: flag 0, a 4-byte big-endian length, the bytes. */
function frame(bytes: Uint8Array, flag = 0): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** Splits a gRPC-web response body into its messages and its trailers. */
function unframe(body: Uint8Array): { messages: Uint8Array[]; trailers: Record<string, string> } {
  const messages: Uint8Array[] = [];
  const trailers: Record<string, string> = {};
  for (let at = 0; at < body.length;) {
    const flag = body[at];
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    const payload = body.subarray(at + 5, at + 5 + length);
    assertEquals(payload.length, length, "a truncated gRPC-web frame");
    at += 5 + length;
    if ((flag & 0x80) === 0) {
      messages.push(payload);
      continue;
    }
    for (const line of new TextDecoder().decode(payload).split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
  }
  return { messages, trailers };
}

Deno.test("api interop: fetch sends a hand-framed gRPC-web GetRun and decodes the answer and its trailers", async () => {
  await using env = await serving();
  const submitted = await env.server.cli(["workflow", "run", "quick", "--detach"], env.token, [
    "--ca-cert",
    env.ca.certFile,
  ]);
  assertEquals(submitted.code, 0, submitted.stderr);
  const runId = submitted.stdout.trim().split("\n")[0];
  using client = Deno.createHttpClient({ caCerts: [env.ca.certPem] });
  const call = async (id: string) => {
    const response = await fetch(`${env.server.url}/swamp.v1.RunService/GetRun`, {
      method: "POST",
      client,
      signal: AbortSignal.timeout(30_000),
      headers: {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        ...env.auth,
      },
      body: frame(toBinary(GetRunRequestSchema, create(GetRunRequestSchema, { runId: id }))),
    });
    return { response, ...unframe(new Uint8Array(await response.arrayBuffer())) };
  };
  const ok = await call(runId);
  assertEquals(ok.response.status, 200);
  assertEquals(ok.response.headers.get("content-type"), "application/grpc-web+proto");
  assertEquals(ok.messages.length, 1);
  assertEquals(ok.trailers["grpc-status"], "0");
  const answer = fromBinary(GetRunResponseSchema, ok.messages[0]);
  assertEquals(answer.run?.id, runId);
  assertEquals(answer.run?.workflowName, "quick");

  // An error is a trailers frame with the status from the code table, its message and swamp's
  // ErrorDetail inside grpc-status-details-bin (a google.rpc.Status, decoded here by Connect).
  const missing = await call("ffffffff");
  assertEquals(missing.response.status, 200);
  assertEquals(missing.messages.length, 0);
  assertEquals(missing.trailers["grpc-status"], "5");
  assertEquals(decodeURIComponent(missing.trailers["grpc-message"]), "no run with id ffffffff");
  const error = findTrailerError(new Headers(missing.trailers));
  assertEquals(
    error?.findDetails(ErrorDetailSchema).map((d) => [d.code, d.message]),
    [[ErrorCode.NOT_FOUND, "no run with id ffffffff"]],
  );
});

Deno.test("api interop: Connect's own transports (Connect and gRPC over HTTP/2, gRPC-web over HTTP/1.1)", async () => {
  await using env = await serving();
  const headers = env.auth;
  const sessions = new Http2SessionManager(env.server.url, {}, { ca: env.ca.certPem });
  const agent = new https.Agent({ ca: env.ca.certPem, keepAlive: false });
  try {
    const connect = createClient(
      RunService,
      createConnectTransport({
        baseUrl: env.server.url,
        httpVersion: "2",
        sessionManager: sessions,
        nodeOptions: { ca: env.ca.certPem },
      }),
    );
    const submitted = await connect.submitRun({ workflow: "quick" }, {
      headers,
      timeoutMs: 30_000,
    });
    const runId = submitted.run!.id;
    const transports = {
      // gRPC is HTTP/2 only.
      grpc: createGrpcTransport({
        baseUrl: env.server.url,
        sessionManager: sessions,
        nodeOptions: { ca: env.ca.certPem },
      }),
      grpcWebHttp1: createGrpcWebTransport({
        baseUrl: env.server.url,
        httpVersion: "1.1",
        nodeOptions: { ca: env.ca.certPem, agent },
      }),
    };
    const clients = [
      ["connect", connect],
      ...Object.entries(transports).map(([name, t]) =>
        [name, createClient(RunService, t)] as const
      ),
    ] as const;
    for (const [name, client] of clients) {
      const listed = await client.listRuns({}, { headers, timeoutMs: 30_000 });
      assertEquals(listed.runs.map((r) => r.id), [runId], name);
      const got = await client.getRun({ runId }, { headers, timeoutMs: 30_000 });
      assertEquals(got.run?.workflowName, "quick", name);
      // Each protocol carries the status and swamp's ErrorDetail back to the client.
      const error = await client.getRun({ runId: "ffffffff" }, { headers, timeoutMs: 30_000 })
        .then(() => undefined, (e) => ConnectError.from(e));
      assert(error, `${name}: an unknown run id was answered`);
      assertEquals(error.code, Code.NotFound, name);
      const details = error.findDetails(ErrorDetailSchema);
      assertEquals(details.map((d) => [d.code, d.message]), [
        [ErrorCode.NOT_FOUND, "no run with id ffffffff"],
      ], name);
    }
  } finally {
    sessions.abort();
    agent.destroy();
  }
});

// rustls-based clients (Deno's fetch) refuse a CA certificate used as a server's own
// ("CaUsedAsEndEntity"): the self-signed certificate must be a leaf (CA:FALSE, serverAuth).
Deno.test({
  name: "api interop: Deno's fetch trusts the certificate of `swamp serve --tls-self-signed`",
  async fn() {
    await using repo = await repoWith("file", files);
    const token = await mintToken(repo.root, "interop", "viewer");
    await using server = await startServe(repo.root, ["--tls-self-signed"]);
    const ca = await Deno.readTextFile(`${repo.root}/.swamp/tls/serve-cert.pem`);
    using client = Deno.createHttpClient({ caCerts: [ca] });
    const response = await fetch(`${server.url}/swamp.v1.RunService/ListRuns`, {
      method: "POST",
      client,
      signal: AbortSignal.timeout(30_000),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: "{}",
    });
    assertEquals([response.status, await response.json()], [200, {}]);
  },
});
