// A loopback HTTP/1.1 server for Connect's JSON protocol: what a sandboxed
// extension method (whose fetch speaks HTTP/1.1) calls the capability
// service on during a local run. Started on an ephemeral port when the first
// extension step of the process runs.
import * as http from "node:http";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { connectHandlers, type Gatekeeper, type ServedService } from "./handlers.ts";

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** e.g. 127.0.0.1:40123, for `--allow-net`. */
  hostPort: string;
  close(): Promise<void>;
}

export async function startLoopbackServer(options: {
  services: ServedService[];
  gate: Gatekeeper;
  readMaxBytes: number;
}): Promise<LoopbackServer> {
  const handler = connectNodeAdapter({
    routes: (router) => {
      for (const served of options.services) {
        router.service(served.service, connectHandlers(served, options.gate));
      }
    },
    readMaxBytes: options.readMaxBytes,
  });
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // The process that started it may end while it is idle.
  server.unref();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
