// An HTTP/2 server that speaks gRPC, gRPC-web and Connect (JSON and binary)
// on one port, with TLS when given a certificate (h2c otherwise).
import * as http2 from "node:http2";
import { X509Certificate } from "node:crypto";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { connectHandlers, type Draining, type Gatekeeper, type ServedService } from "./handlers.ts";
import { unaryFastPath, type UnaryImpl } from "./unary_fast_path.ts";
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM texts; without them the server speaks h2c (plain HTTP/2). */
  tls?: { cert: string; key: string };
  services: ServedService[];
  gate: Gatekeeper;
  /** Largest request message accepted; larger ones get resource_exhausted. */
  readMaxBytes: number;
  /**
   * Plain binary Connect unary calls answered without the Node adapter
   * (unary_fast_path.ts, decision 0040); default true. False sends every call
   * through the adapter (tests compare the two).
   */
  unaryFastPath?: boolean;
}

export interface RunningServer {
  /** e.g. https://127.0.0.1:7870 */
  url: string;
  port: number;
  /** SHA-256 of the certificate (DER), lower-case hex; empty without TLS. */
  fingerprint: string;
  /**
   * The first half of a drain: every service but those in `keep` (type
   * names) refuses new calls with `unavailable` and has its open calls
   * ended; the kept ones (a worker's control stream, its capability calls)
   * go on until `close`. The listener stays open for them.
   */
  stopAccepting(keep: string[]): void;
  /** Stops accepting, ends open streams, waits for in-flight calls; resolves when closed. */
  close(): Promise<void>;
}

/** The SHA-256 fingerprint of a PEM certificate, lower-case hex without separators. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase();
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const shutdown = new AbortController();
  /** Set by stopAccepting: the services whose calls go on until close. */
  let kept: Set<string> | undefined;
  /** Per service: aborted when its calls are to end (stopAccepting, or close for the kept). */
  const ending = new Map<string, AbortController>();
  const endingOf = (service: string) => {
    let controller = ending.get(service);
    if (!controller) ending.set(service, controller = new AbortController());
    if (shutdown.signal.aborted || (kept && !kept.has(service))) controller.abort();
    return controller;
  };
  const draining: Draining = {
    refusal: (service) =>
      kept && !kept.has(service)
        ? new SwampError(ErrorCode.UNAVAILABLE, "this swamp serve instance is draining", {
          hint: "call another instance on the same store, or this one once it has restarted",
        })
        : undefined,
    signal: (service) => endingOf(service).signal,
  };
  const bridged = options.services.map((served) => ({
    service: served.service,
    handlers: connectHandlers(served, options.gate, draining),
  }));
  const handler = connectNodeAdapter({
    routes: (router) => {
      for (const { service, handlers } of bridged) router.service(service, handlers);
    },
    readMaxBytes: options.readMaxBytes,
    shutdownSignal: shutdown.signal,
  });
  const plainUnary = options.unaryFastPath === false ? undefined : unaryFastPath(
    bridged.flatMap(({ service, handlers }) =>
      service.methods.map((method) => ({
        method,
        impl: (handlers as Record<string, UnaryImpl>)[method.localName],
      }))
    ),
    { readMaxBytes: options.readMaxBytes, shutdownSignal: shutdown.signal },
  );
  // Both kinds share every method used here; one type keeps the calls simple.
  const server =
    (options.tls
      ? http2.createSecureServer({ cert: options.tls.cert, key: options.tls.key, allowHTTP1: true })
      : http2.createServer()) as unknown as http2.Http2Server;
  server.on("request", (request, response) => {
    if (!plainUnary?.(request, response)) void handler(request, response);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once("error", failed);
    server.listen(options.port, options.host, () => {
      server.removeListener("error", failed);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${port}`,
    port,
    fingerprint: options.tls ? certificateFingerprint(options.tls.cert) : "",
    stopAccepting(keep) {
      kept ??= new Set(keep);
      for (const service of ending.keys()) endingOf(service);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams that follow runs would never end by themselves: ending them is part of draining.
        shutdown.abort();
        for (const controller of ending.values()) controller.abort();
        for (const session of sessions) session.close();
        setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 5_000).unref?.();
      });
      return closing;
    },
  };
}
