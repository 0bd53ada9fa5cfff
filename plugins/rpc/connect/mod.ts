// The Connect RPC adapter: serves swamp's services over gRPC, gRPC-web and
// Connect on node:http2, and calls them remotely with pinning and tokens.
export { asRemoteError, fromConnectError, toConnectError } from "./errors.ts";
export { type Gatekeeper, type ServedService } from "./handlers.ts";
export {
  certificateFingerprint,
  type RunningServer,
  type ServerOptions,
  startServer,
} from "./server.ts";
export { parsePin, tlsOptionsFor, type TrustOptions } from "./pin.ts";
export { remoteClient, type RemoteOptions, remoteTransport, serverUrl } from "./client.ts";
export { type LoopbackServer, startLoopbackServer } from "./http1.ts";
