import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AuthService } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { grpcInsecure, grpcJsClient, grpcTlsCredentials } from "./grpc_js.ts";
import { caSignedCert, type CertFiles, selfSignedCert, testCa } from "./tls.ts";

/** What the tiny server saw, so tests can check cancellation reached it. */
interface Seen {
  following: number;
  aborted: number;
}

function routes(seen: Seen) {
  return (router: ConnectRouter) => {
    router.service(AuthService, {
      whoAmI(_request, context) {
        if (context.requestHeader.get("authorization") === "Bearer bad") {
          throw new ConnectError("bad token", Code.Unauthenticated);
        }
        return { name: "t" };
      },
    });
    router.service(RunService, {
      async *readLogs(request, context) {
        const prefix = context.requestHeader.get("x-prefix") ?? "";
        for (let i = 1n; i <= 3n; i++) {
          if (request.runId === "missing" && i === 2n) {
            throw new ConnectError("no such run", Code.NotFound);
          }
          yield {
            line: { seq: request.afterSeq + i, stepId: request.step, text: `${prefix}line ${i}` },
          };
        }
        if (request.follow) {
          // A follow stream stays open until the client goes away.
          seen.following++;
          await new Promise<void>((resolve) => {
            context.signal.addEventListener("abort", () => resolve(), { once: true });
          });
          seen.aborted++;
        }
      },
    });
  };
}

interface TestServer {
  address: string;
  seen: Seen;
  close(): Promise<void>;
}

async function startServer(cert?: CertFiles): Promise<TestServer> {
  const seen: Seen = { following: 0, aborted: 0 };
  const handler = connectNodeAdapter({ routes: routes(seen) });
  const server = cert
    ? http2.createSecureServer({ cert: cert.certPem, key: cert.keyPem }, handler)
    : http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (session: http2.Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() waits for open sessions; the client may keep one idle.
      for (const session of sessions) session.close();
      await closed;
    },
  };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert(check(), `timed out waiting for ${what}`);
}

function statusOf(error: unknown): grpc.status | undefined {
  return (error as grpc.ServiceError).code;
}

function refused(error: unknown, reason: string): boolean {
  const { code, details } = error as grpc.ServiceError;
  return code === grpc.status.UNAVAILABLE && details.includes(reason);
}

/** Unary and server-streaming calls, metadata, errors and cancellation through one server. */
async function exercise(server: TestServer, credentials: () => grpc.ChannelCredentials) {
  const auth = grpcJsClient(AuthService, server.address, credentials());
  const runs = grpcJsClient(RunService, server.address, credentials());
  try {
    const me = await auth.whoAmI({});
    assertEquals(me.name, "t");
    assertEquals(me.$typeName, "swamp.v1.WhoAmIResponse");
    await assertRejects(
      () => auth.whoAmI({}, { authorization: "Bearer bad" }),
      (e) => statusOf(e) === grpc.status.UNAUTHENTICATED,
    );
    await assertRejects(
      () => auth.listTokens({}),
      (e) => statusOf(e) === grpc.status.UNIMPLEMENTED,
    );

    const lines = await collect(
      runs.readLogs({ runId: "r1", afterSeq: 10n, step: "build" }, { "x-prefix": "log/" }),
    );
    assertEquals(
      lines.map((r) => [r.line?.seq, r.line?.stepId, r.line?.text]),
      [[11n, "build", "log/line 1"], [12n, "build", "log/line 2"], [13n, "build", "log/line 3"]],
    );

    // An error after the first message arrives after that message, as the status.
    const received: bigint[] = [];
    await assertRejects(async () => {
      for await (const r of runs.readLogs({ runId: "missing" })) received.push(r.line!.seq);
    }, (e) => statusOf(e) === grpc.status.NOT_FOUND);
    assertEquals(received, [1n]);

    // Leaving a follow stream early cancels the call on the server.
    let first: bigint | undefined;
    for await (const r of runs.readLogs({ runId: "r1", follow: true })) {
      first = r.line?.seq;
      break;
    }
    assertEquals(first, 1n);
    await eventually(() => server.seen.aborted === 1, "the server to see the cancel");

    // close() ends calls that are still open, even ones nobody reads.
    runs.readLogs({ runId: "r1", follow: true });
    await eventually(() => server.seen.following === 2, "the second follow stream to start");
  } finally {
    auth.close();
    runs.close();
  }
  await eventually(() => server.seen.aborted === 2, "close() to cancel the open stream");
}

Deno.test("grpcJsClient over h2c", async () => {
  const server = await startServer();
  try {
    await exercise(server, grpcInsecure);
  } finally {
    await server.close();
  }
});

Deno.test("grpcJsClient over TLS with a CA-signed certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-grpc-test-" });
  try {
    const ca = await testCa(dir);
    const server = await startServer(await caSignedCert(ca, dir));
    try {
      await exercise(server, () => grpcTlsCredentials(ca.certPem));

      const stranger = await testCa(dir);
      const client = grpcJsClient(
        AuthService,
        server.address,
        grpcTlsCredentials(stranger.certPem),
      );
      try {
        await assertRejects(() => client.whoAmI({}), (e) => refused(e, "unable to verify"));
      } finally {
        client.close();
      }
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grpcJsClient over TLS pinned to a self-signed certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-grpc-test-" });
  try {
    for (const ips of [undefined, []]) {
      const cert = await selfSignedCert(dir, { ips });
      const server = await startServer(cert);
      const client = grpcJsClient(AuthService, server.address, grpcTlsCredentials(cert.certPem));
      try {
        if (ips === undefined) {
          assertEquals((await client.whoAmI({})).name, "t");
        } else {
          // The certificate names only localhost: dialling 127.0.0.1 must be refused, which
          // shows the address itself is checked even though Deno cannot send it as SNI.
          await assertRejects(() => client.whoAmI({}), (e) => refused(e, "altnames"));
        }
      } finally {
        client.close();
        await server.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
