// Unary calls in the Connect protocol's plain binary form (POST,
// `application/proto`, `connect-protocol-version: 1`, no compression over
// HTTP/2) answered by Connect's own protocol functions, without the Node
// adapter's general machinery (decision 0040): the request is not turned into
// a universal request with an async-iterable body, the answer not streamed
// through an async iterable, and the call's signals are ended with a reason
// instead of a fresh DOMException (each with a stack) twice per call. What
// the answer is, success or error, is decided by the same Connect code as
// before: the handler context, the timeout header, the read limit, the
// (de)serialization and the error's JSON. Everything else (JSON, gRPC,
// gRPC-web, GET, streams, compression, HTTP/1.1) goes to the adapter.
import type { DescMethod, DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  mergeNonProtocolHeaders,
  readAllBytes,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  errorToJsonBytes,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import type * as http2 from "node:http2";
import { EventQueue } from "../../../runtime/mod.ts";

// deno-lint-ignore no-explicit-any
export type UnaryImpl = (request: any, context: HandlerContext) => Promise<any>;

interface Route {
  method: DescMethodUnary;
  impl: UnaryImpl;
  serialization: ReturnType<typeof createMethodSerializationLookup>;
}

export interface FastPathOptions {
  readMaxBytes: number;
  shutdownSignal: AbortSignal;
}

/** The reason a call's signal is ended with once it has been answered. */
const answered = new ConnectError("the call was answered", Code.Canceled);
/** Connect's writeMaxBytes default: no answer of ours comes near it. */
const writeMaxBytes = 0xffffffff;

/**
 * Returns `take(request, response)`: true when it answers the call itself,
 * false when the call is not of the plain form and is left to the adapter.
 */
export function unaryFastPath(
  methods: { method: DescMethod; impl: UnaryImpl }[],
  options: FastPathOptions,
): (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => boolean {
  const routes = new Map<string, Route>();
  for (const { method, impl } of methods) {
    if (method.methodKind !== "unary") continue;
    routes.set(`/${method.parent.typeName}/${method.name}`, {
      method: method as DescMethodUnary,
      impl,
      serialization: createMethodSerializationLookup(method, undefined, undefined, {
        readMaxBytes: options.readMaxBytes,
        writeMaxBytes,
      }),
    });
  }
  return (request, response) => {
    const headers = request.headers;
    if (
      request.httpVersionMajor !== 2 || request.method !== "POST" ||
      headers["content-type"] !== "application/proto" ||
      headers["connect-protocol-version"] !== "1" ||
      headers["content-encoding"] !== undefined || headers["accept-encoding"] !== undefined
    ) return false;
    const route = routes.get(request.url);
    if (!route) return false;
    void answer(route, request, response, options).catch(() => response.destroy());
    return true;
  };
}

async function answer(
  route: Route,
  request: http2.Http2ServerRequest,
  response: http2.Http2ServerResponse,
  options: FastPathOptions,
): Promise<void> {
  // A caller that goes before its answer aborts the call, as with the adapter.
  const caller = new AbortController();
  let settled = false;
  // Not `writableFinished`: a stream the caller reset reports its response finished too.
  const gone = () => {
    if (!settled) caller.abort(new ConnectError("the caller closed the call", Code.Canceled));
  };
  request.once("close", gone);
  const timeout = parseTimeout(headerText(request, "connect-timeout-ms"), Number.MAX_SAFE_INTEGER);
  const context = createHandlerContext({
    service: route.method.parent,
    method: route.method,
    protocolName: "connect",
    requestMethod: "POST",
    url: `${request.scheme}://${request.authority}${request.url}`,
    timeoutMs: timeout.timeoutMs,
    shutdownSignal: options.shutdownSignal,
    requestSignal: caller.signal,
    requestHeader: plainHeaders(request.headers),
    responseHeader: { "content-type": "application/proto" },
  });
  let status = 200;
  let body: Uint8Array;
  try {
    if (timeout.error) throw timeout.error;
    const bytes = await readAllBytes(
      bodyOf(request),
      options.readMaxBytes,
      headerText(request, "content-length"),
    );
    const input = route.serialization.getI(true).parse(bytes);
    const output = await invokeUnaryImplementation(
      { kind: "unary", method: route.method, impl: route.impl },
      context,
      input,
      [],
    );
    body = route.serialization.getO(true).serialize(output);
  } catch (e) {
    context.abort(e);
    const error = e instanceof ConnectError
      ? e
      : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    status = codeToHttpStatus(error.code);
    context.responseHeader.set("content-type", "application/json");
    if (!error.isWireError) mergeNonProtocolHeaders(context.responseHeader, error.metadata);
    body = errorToJsonBytes(error, {});
  } finally {
    settled = true;
    context.abort(answered);
    request.off("close", gone);
  }
  const header = trailerMux(context.responseHeader, context.responseTrailer);
  header.set("content-length", String(body.byteLength));
  response.writeHead(status, Object.fromEntries(header));
  response.end(body);
}

function headerText(request: http2.Http2ServerRequest, name: string): string | null {
  const value = request.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

/** The request's headers without HTTP/2's pseudo-headers, which a `Headers` refuses. */
function plainHeaders(headers: http2.IncomingHttpHeaders): [string, string][] {
  const plain: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) { for (const one of value) plain.push([name, one]); }
    else plain.push([name, value]);
  }
  return plain;
}

/**
 * The request's body chunks, from its events (a stream's own async iterator costs more), listened
 * for from the call on, so nothing that arrives before the first read is missed.
 */
function bodyOf(request: http2.Http2ServerRequest): AsyncIterable<Uint8Array> {
  const chunks = new EventQueue<Uint8Array>();
  let failed: unknown;
  request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  request.once("end", () => chunks.close());
  request.once("error", (error: unknown) => {
    failed = error;
    chunks.close();
  });
  return (async function* () {
    try {
      yield* chunks;
      if (failed !== undefined) throw ConnectError.from(failed, Code.Internal);
    } finally {
      // Read no further (a body over the limit): what still comes is dropped.
      chunks.close();
    }
  })();
}
