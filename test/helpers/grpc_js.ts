// A stock @grpc/grpc-js client for the generated swamp services. Tests use it to prove that the
// server speaks plain gRPC to a client that shares none of our Connect code. It is built from the
// service descriptors directly, so no .proto files are loaded at run time.
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";

export type GrpcMetadata = Record<string, string>;

/** One function per unary or server-streaming method (by its local name), plus `close()`. */
export type GrpcJsClient<S extends DescService> =
  & {
    [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O> ? (
        request: MessageInitShape<I>,
        metadata?: GrpcMetadata,
      ) => Promise<MessageShape<O>>
      : S["method"][K] extends DescMethodServerStreaming<infer I, infer O> ? (
          request: MessageInitShape<I>,
          metadata?: GrpcMetadata,
        ) => AsyncIterable<MessageShape<O>>
      : never;
  }
  & {
    /** Cancels calls still running, then closes the channel. */
    close(): void;
  };

/** `address` is `host:port`, e.g. `127.0.0.1:50051`. */
export function grpcJsClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: Partial<grpc.ChannelOptions> = {},
): GrpcJsClient<S> {
  const methods = supportedMethods(service);
  const host = hostOf(address);
  if (ours.has(credentials) && isIP(host) && !options["grpc.ssl_target_name_override"]) {
    options = { ...options, "grpc.ssl_target_name_override": serverNameForIp(host) };
  }
  const definition: grpc.ServiceDefinition = Object.fromEntries(methods.map((method) => [
    method.name,
    {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: method.methodKind === "server_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    },
  ]));
  const Client = grpc.makeGenericClientConstructor(definition, service.typeName);
  const client = new Client(address, credentials, options);
  // Calls still open when close() runs; cancelling them lets the test's process settle.
  const open = new Set<{ cancel(): void }>();

  const out: Record<string, unknown> = {
    close() {
      for (const call of open) call.cancel();
      open.clear();
      client.close();
    },
  };
  for (const method of methods) {
    const invoke = client[method.name].bind(client);
    out[method.localName] = method.methodKind === "unary"
      ? (request: MessageInitShape<DescMessage>, metadata?: GrpcMetadata) =>
        new Promise((resolve, reject) => {
          const call: grpc.ClientUnaryCall = invoke(
            create(method.input, request),
            toMetadata(metadata),
            (error: grpc.ServiceError | null, response: unknown) => {
              open.delete(call);
              if (error) reject(error);
              else resolve(response);
            },
          );
          open.add(call);
        })
      : (request: MessageInitShape<DescMessage>, metadata?: GrpcMetadata) => {
        const call: grpc.ClientReadableStream<unknown> = invoke(
          create(method.input, request),
          toMetadata(metadata),
        );
        open.add(call);
        return readStream(call, () => open.delete(call));
      };
  }
  return out as GrpcJsClient<S>;
}

/**
 * grpc-js always sends the target host as the TLS server name, and Deno refuses an IP address
 * there (RFC 6066). So for an IP target the client sends a stand-in name that encodes the
 * address, and credentials from here check the certificate against the address itself.
 */
const ours = new WeakSet<grpc.ChannelCredentials>();
const IP_NAME_SUFFIX = ".ip.invalid";

function serverNameForIp(ip: string): string {
  return `x${ip.replaceAll(":", "-")}${IP_NAME_SUFFIX}`;
}

function ipOfServerName(name: string): string | undefined {
  if (!name.startsWith("x") || !name.endsWith(IP_NAME_SUFFIX)) return undefined;
  const ip = name.slice(1, -IP_NAME_SUFFIX.length).replaceAll("-", ":");
  return isIP(ip) ? ip : undefined;
}

function hostOf(address: string): string {
  return address.match(/^\[(.+)\]:\d+$/)?.[1] ?? address.match(/^([^:]+):\d+$/)?.[1] ?? "";
}

/** TLS credentials that trust `caPem` only (a CA or a pinned self-signed certificate). */
export function grpcTlsCredentials(caPem: string | Uint8Array): grpc.ChannelCredentials {
  const credentials = grpc.credentials.createSsl(Buffer.from(caPem), null, null, {
    checkServerIdentity: (name, cert) => checkServerIdentity(ipOfServerName(name) ?? name, cert),
  });
  ours.add(credentials);
  return credentials;
}

/** Plain-text HTTP/2 (h2c). */
export function grpcInsecure(): grpc.ChannelCredentials {
  return grpc.credentials.createInsecure();
}

function supportedMethods(service: DescService): DescMethod[] {
  for (const method of service.methods) {
    if (method.localName === "close") {
      throw new Error(`${service.typeName}.${method.name} collides with close()`);
    }
  }
  // Client and bidi streams are left out until a swamp service has one.
  return service.methods.filter((m) =>
    m.methodKind === "unary" || m.methodKind === "server_streaming"
  );
}

function serializer(schema: DescMessage): (value: MessageShape<DescMessage>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    // grpc-js frames messages with Buffer methods, so wrap the bytes without copying them.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => MessageShape<DescMessage> {
  return (bytes) => fromBinary(schema, bytes);
}

function toMetadata(values: GrpcMetadata = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key, value);
  return metadata;
}

/**
 * Adapts grpc-js's Readable to an async iterable. Node's own async iterator is not used because
 * on an early `break` it destroys the stream without cancelling the call, and the CANCELLED
 * status that follows would then be emitted with no error listener.
 */
function readStream<T>(call: grpc.ClientReadableStream<T>, done: () => void): AsyncIterable<T> {
  const queue: T[] = [];
  let error: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  call.on("data", (message: T) => {
    queue.push(message);
    // Backpressure: leave further messages in grpc-js's buffer (and the HTTP/2 window).
    if (queue.length >= 64) call.pause();
    signal();
  });
  // grpc-js ends the data and then emits the error, but messages still buffered while paused
  // come before "end"; so the error is thrown only once "end" has been seen.
  call.on("error", (e: unknown) => {
    error ??= e;
    signal();
  });
  call.on("end", () => {
    ended = true;
    signal();
  });
  let started = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error("a server stream can be read only once");
      started = true;
      let complete = false;
      try {
        while (true) {
          if (queue.length > 0) {
            const message = queue.shift()!;
            if (call.isPaused() && queue.length < 16) call.resume();
            yield message;
          } else if (ended) {
            complete = true;
            if (error !== undefined) throw error;
            return;
          } else {
            await new Promise<void>((resolve) => wake = resolve);
          }
        }
      } finally {
        if (!complete) call.cancel();
        done();
      }
    },
  };
}
