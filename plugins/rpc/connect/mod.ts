// The Connect RPC adapter: serves swamp's services over gRPC, gRPC-web and
// Connect on node:http2, and calls them remotely with pinning and tokens.
// The servers load when started: a command that only calls a server (every
// `--server` command, a worker) does not load their handler stack or
// node:crypto. (node:http2 and node:zlib load with the client either way.)
import type { RunningServer, ServerOptions } from "./server.ts";
import type { LoopbackServer } from "./http1.ts";

export { asRemoteError, fromConnectError, toConnectError } from "./errors.ts";
export { type Gatekeeper, type ServedService } from "./handlers.ts";
export type { RunningServer, ServerOptions } from "./server.ts";
export { parsePin, tlsOptionsFor, type TrustOptions } from "./pin.ts";
export {
  remoteClient,
  remoteConnection,
  type RemoteOptions,
  remoteTransport,
  serverUrl,
} from "./client.ts";
export type { LoopbackServer } from "./http1.ts";

/** Serves the services on node:http2 (server.ts). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { startServer } = await import("./server.ts");
  return await startServer(options);
}

/** Serves services over HTTP/1.1 on a loopback port, for a step's sandbox (http1.ts). */
export async function startLoopbackServer(
  options: Parameters<typeof import("./http1.ts").startLoopbackServer>[0],
): Promise<LoopbackServer> {
  const { startLoopbackServer } = await import("./http1.ts");
  return await startLoopbackServer(options);
}
