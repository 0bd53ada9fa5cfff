// The plain binary unary path (decision 0040) answers exactly as the Connect
// adapter does: the same status, content type and bytes for answers and for
// every kind of error, on real servers over real sockets; and it takes only
// the calls of that plain form.
import * as http2 from "node:http2";
import { Buffer } from "node:buffer";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  GetRunRequestSchema,
  GetRunResponseSchema,
  RunService,
} from "../../../proto/gen/swamp/v1/run_service_pb.ts";
import { RunSchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { type CallContext, ErrorCode, SwampError, systemPrincipal } from "../../../runtime/mod.ts";
import { assert, assertEquals, eventually } from "../../../test/helpers/mod.ts";
import { type RunningServer, startServer } from "./server.ts";
import { unaryFastPath } from "./unary_fast_path.ts";
import { connectHandlers } from "./handlers.ts";

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One call on `session`; `reset` cancels the stream once it is sent. */
function call(
  session: http2.ClientHttp2Session,
  body: Uint8Array,
  headers: Record<string, string> = {},
  path = "/swamp.v1.RunService/GetRun",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/proto",
      "connect-protocol-version": "1",
      authorization: "Bearer good",
      ...headers,
    });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    request.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = h;
    });
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on(
      "end",
      () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks) }),
    );
    request.on("error", reject);
    request.end(Buffer.from(body));
  });
}

/** An answer's headers but the date, which differs between any two answers. */
function headersOf(answer: Answer): Record<string, unknown> {
  const { date: _date, ...rest } = answer.headers;
  return { ...rest };
}

const getRun = (runId: string) =>
  toBinary(GetRunRequestSchema, create(GetRunRequestSchema, { runId }));

/** What the service saw of slow calls' signals. */
const aborted: string[] = [];

const service = {
  service: RunService,
  impl: {
    async getRun(request: { runId: string }, ctx: CallContext) {
      if (request.runId === "missing") {
        throw new SwampError(ErrorCode.NOT_FOUND, "run missing not found", { hint: "list runs" });
      }
      if (request.runId === "broken") throw new Error("a bug");
      if (request.runId.startsWith("slow")) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 20_000);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            aborted.push(request.runId);
            resolve();
          }, { once: true });
        });
        throw ctx.signal.reason;
      }
      return create(GetRunResponseSchema, {
        run: create(RunSchema, { id: request.runId, workflowName: "w" }),
      });
    },
  },
};

const gate = {
  principalFor: (authorization: string | null) =>
    authorization === "Bearer good"
      ? Promise.resolve(systemPrincipal)
      : Promise.reject(new SwampError(ErrorCode.UNAUTHENTICATED, "no valid token")),
  authorize() {},
};

async function serve(fast: boolean): Promise<RunningServer> {
  return await startServer({
    host: "127.0.0.1",
    port: 0,
    services: [service],
    gate,
    readMaxBytes: 1024,
    unaryFastPath: fast,
  });
}

Deno.test("the plain unary path answers as the Connect adapter does, answers and errors alike", async () => {
  const servers = [await serve(true), await serve(false)];
  const sessions = servers.map((s) => http2.connect(s.url));
  try {
    const cases: [string, Uint8Array, Record<string, string>][] = [
      ["an answer", getRun("r-1"), {}],
      ["a swamp error with its detail", getRun("missing"), {}],
      ["an error that is no swamp error", getRun("broken"), {}],
      ["no token", getRun("r-1"), { authorization: "Bearer bad" }],
      ["a body that is not protobuf", new Uint8Array([0xff, 0xff, 0xff]), {}],
      ["a body over the read limit", getRun("x".repeat(2000)), {}],
      ["a deadline that passes", getRun("slow-deadline"), { "connect-timeout-ms": "50" }],
      ["a timeout header that is no number", getRun("r-1"), { "connect-timeout-ms": "soon" }],
    ];
    for (const [what, body, headers] of cases) {
      const [fast, adapter] = await Promise.all(sessions.map((s) => call(s, body, headers)));
      assertEquals(fast.status, adapter.status, what);
      assertEquals(headersOf(fast), headersOf(adapter), what);
      assertEquals(fast.body.toString("base64"), adapter.body.toString("base64"), what);
    }
    // The answers are what they say: one run, and errors with their codes.
    const ok = await call(sessions[0], getRun("r-1"));
    assertEquals([ok.status, ok.headers["content-type"]], [200, "application/proto"]);
    const missing = await call(sessions[0], getRun("missing"));
    assertEquals(missing.status, 404);
    assertEquals(JSON.parse(missing.body.toString()).code, "not_found");
    const late = await call(sessions[0], getRun("slow-late"), { "connect-timeout-ms": "50" });
    assertEquals(JSON.parse(late.body.toString()).code, "deadline_exceeded");
  } finally {
    for (const session of sessions) session.close();
    for (const server of servers) await server.close();
  }
});

for (const fast of [true, false]) {
  Deno.test(`${fast ? "the plain unary path" : "the adapter"}: a caller that goes aborts its call`, async () => {
    const server = await serve(fast);
    const session = http2.connect(server.url);
    try {
      const request = session.request({
        ":method": "POST",
        ":path": "/swamp.v1.RunService/GetRun",
        "content-type": "application/proto",
        "connect-protocol-version": "1",
        authorization: "Bearer good",
      });
      request.on("error", () => {});
      request.end(Buffer.from(getRun(`slow-gone-${fast}`)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      session.destroy();
      await eventually(
        "the call's signal to abort",
        () => Promise.resolve(aborted.includes(`slow-gone-${fast}`) || undefined),
        10_000,
      );
    } finally {
      session.close();
      await server.close();
    }
  });
}

Deno.test("the plain unary path takes POSTs of binary Connect unary calls only", async () => {
  const handlers = connectHandlers(service, gate);
  const take = unaryFastPath(
    RunService.methods.map((method) => ({
      method,
      // deno-lint-ignore no-explicit-any
      impl: (handlers as Record<string, any>)[method.localName],
    })),
    { readMaxBytes: 1024, shutdownSignal: new AbortController().signal },
  );
  const server = http2.createServer();
  server.on("request", (request, response) => {
    if (take(request, response)) return;
    request.resume();
    response.writeHead(418).end("left to the adapter");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const body = getRun("r-1");
    assertEquals((await call(session, body)).status, 200);
    const left: Record<string, string>[] = [
      { "content-type": "application/json" },
      { "content-type": "application/grpc" },
      { "content-type": "application/grpc-web+proto" },
      { "connect-protocol-version": "" },
      { "accept-encoding": "gzip" },
      { "content-encoding": "gzip" },
    ];
    for (const headers of left) {
      const answer = await call(session, body, headers);
      assertEquals(answer.status, 418, JSON.stringify(headers));
    }
    // Streams and unknown methods too.
    const stream = await call(session, body, {}, "/swamp.v1.RunService/WatchRunEvents");
    assertEquals(stream.status, 418);
    assertEquals((await call(session, body, {}, "/swamp.v1.RunService/Nope")).status, 418);
    assert(RunService.method.watchRunEvents.methodKind === "server_streaming");
  } finally {
    session.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
