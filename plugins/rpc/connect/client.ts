// A remote client for a swamp service: the generated service over a Connect
// transport, with the same calling shape as the in-process implementation
// and every failure turned back into the SwampError the server raised.
import type { DescService } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../../proto/gen/swamp/v1/errors_pb.ts";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ErrorCode, type ServiceClient, SwampError } from "../../../runtime/mod.ts";
import { asRemoteError } from "./errors.ts";
import { tlsOptionsFor, type TrustOptions } from "./pin.ts";

export interface RemoteOptions extends TrustOptions {
  /** `NAME.SECRET`, sent as a bearer token. */
  token?: string;
  /** Sends HTTP/2 pings this often, so a dead connection is noticed (long-lived streams). */
  pingIntervalMs?: number;
}

/** Parses and checks a server URL; only http and https are meaningful. */
export function serverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SwampError(ErrorCode.USAGE, `\`${text}\` is not a server URL`, {
      hint: "give the URL `swamp serve` printed, e.g. https://127.0.0.1:7870",
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SwampError(ErrorCode.USAGE, `server URL ${text} must start with https:// or http://`);
  }
  return url;
}

/** A transport to `url` that pins, trusts and authenticates as `options` say. */
export async function remoteTransport(url: URL, options: RemoteOptions): Promise<Transport> {
  return (await remoteConnection(url, options)).transport;
}

/**
 * A transport to `url`, and a close that ends its HTTP/2 connection at once:
 * for a process that outlives the calls it makes (a waiting supervisor
 * serving a `--server` command, decision 0036), where an idle connection
 * would otherwise stay open for minutes.
 */
export async function remoteConnection(
  url: URL,
  options: RemoteOptions,
): Promise<{ transport: Transport; close: () => void }> {
  const nodeOptions = await tlsOptionsFor(url, options);
  const bearer: Interceptor = (next) => (request) => {
    if (options.token) request.header.set("authorization", `Bearer ${options.token}`);
    return next(request);
  };
  const pings = options.pingIntervalMs
    ? { pingIntervalMs: options.pingIntervalMs, pingTimeoutMs: options.pingIntervalMs * 2 }
    : {};
  const sessionManager = new Http2SessionManager(url.origin, pings, nodeOptions);
  const transport = createConnectTransport({
    baseUrl: url.origin,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
    interceptors: [bearer],
    // swamp serve does not compress; offering gzip and brotli only made servers consider it.
    acceptCompression: [],
  });
  return { transport, close: () => sessionManager.abort() };
}

/** The generated client, its errors mapped to SwampError. */
export function remoteClient<S extends DescService>(
  service: S,
  transport: Transport,
): ServiceClient<S> {
  const client = createClient(service, transport) as Client<DescService>;
  const wrapped: Record<string, unknown> = {};
  for (const method of service.methods) {
    const call = (client as Record<string, (r: unknown) => unknown>)[method.localName];
    const resumes = method.input.fields.some((field) => field.localName === "afterSeq");
    if (method.methodKind === "bidi_streaming") {
      wrapped[method.localName] = (
        requests: AsyncIterable<unknown>,
        options?: { signal?: AbortSignal },
      ) =>
        mapStreamErrors(
          (call as (r: unknown, o?: { signal?: AbortSignal }) => unknown)(
            requests,
            options,
          ) as AsyncIterable<unknown>,
        );
      continue;
    }
    wrapped[method.localName] = method.methodKind === "server_streaming"
      ? (request: unknown) =>
        resumes
          ? resumableStream(call as StreamCall, request as SeqRequest)
          : mapStreamErrors(call(request) as AsyncIterable<unknown>)
      : async (request: unknown) => {
        try {
          return await call(request);
        } catch (error) {
          throw asRemoteError(error);
        }
      };
  }
  return wrapped as ServiceClient<S>;
}

type SeqRequest = { afterSeq?: bigint };
type StreamCall = (request: unknown) => AsyncIterable<unknown>;

/** The sequence number a streamed message carries (an event's or a log line's). */
function seqOf(message: unknown): bigint | undefined {
  const m = message as { event?: { seq: bigint }; line?: { seq: bigint } };
  return m.event?.seq ?? m.line?.seq;
}

/** A stream that broke in transit, not one the server ended with an error of its own. */
function brokeInTransit(error: unknown): boolean {
  const failure = ConnectError.from(error);
  if (failure.findDetails(ErrorDetailSchema).length > 0) return false;
  return failure.code === Code.Unavailable ||
    (failure.code === Code.Unknown && /premature close|stream closed|reset/i.test(failure.message));
}

const maxResumes = 5;

/**
 * A stream of sequence-numbered messages that picks up after the last one
 * received when the connection breaks (HTTP/2 streams can end early in
 * transit), so a follower gets every message once, in order.
 */
async function* resumableStream(call: StreamCall, request: SeqRequest): AsyncIterable<unknown> {
  let after = request.afterSeq ?? 0n;
  let resumes = 0;
  for (;;) {
    try {
      for await (const message of call({ ...request, afterSeq: after })) {
        after = seqOf(message) ?? after;
        resumes = 0;
        yield message;
      }
      return;
    } catch (error) {
      if (!brokeInTransit(error) || ++resumes > maxResumes) throw asRemoteError(error);
      await new Promise((resolve) => setTimeout(resolve, 100 * resumes));
    }
  }
}

async function* mapStreamErrors<T>(stream: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* stream;
  } catch (error) {
    throw asRemoteError(error);
  }
}
