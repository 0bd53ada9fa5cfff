// `--server` and friends: which server a command talks to and how it trusts
// and authenticates to it. Flags win over SWAMP_SERVER / SWAMP_TOKEN.
import type { AuthService } from "../proto/gen/swamp/v1/auth_service_pb.ts";
import type { RepoService } from "../proto/gen/swamp/v1/repo_service_pb.ts";
import type { RunService } from "../proto/gen/swamp/v1/run_service_pb.ts";
import type { WorkerService } from "../proto/gen/swamp/v1/worker_service_pb.ts";
import type { DataService } from "../proto/gen/swamp/v1/data_service_pb.ts";
import type { ServiceClient } from "../runtime/mod.ts";
import type { FlagSpec, FlagValues } from "./types.ts";
import { UsageError } from "./types.ts";
import { closeWithCommand } from "./request_scope.ts";

export interface RemoteSettings {
  url: string;
  token?: string;
  caCertFile?: string;
  pin?: string;
}

/** The flags of every command that can go through a server. */
export const remoteFlags: FlagSpec[] = [
  {
    name: "server",
    type: "string",
    value: "URL",
    description: "talk to this `swamp serve` instead of the local repository (also SWAMP_SERVER)",
  },
  {
    name: "token",
    type: "string",
    value: "NAME.SECRET",
    description: "the API token to present to the server (also SWAMP_TOKEN)",
  },
  {
    name: "ca-cert",
    type: "string",
    value: "FILE",
    description:
      "trust this CA (or self-signed) certificate for the server, instead of the system's",
  },
  {
    name: "pin",
    type: "string",
    value: "sha256:HEX",
    description: "accept only a server certificate with this SHA-256 fingerprint",
  },
];

const text = (value: unknown) =>
  typeof value === "string" && value.trim() !== "" ? value : undefined;

/** The server to use, or undefined to act on the local repository. */
export function remoteSettings(flags: FlagValues): RemoteSettings | undefined {
  const url = text(flags.server) ?? text(Deno.env.get("SWAMP_SERVER"));
  if (!url) {
    for (const flag of ["token", "ca-cert", "pin"]) {
      if (text(flags[flag])) {
        throw new UsageError(
          `--${flag} needs --server (or SWAMP_SERVER)`,
          "name the server to talk to",
        );
      }
    }
    return undefined;
  }
  if (text(flags.repo)) {
    throw new UsageError(
      "--repo and --server cannot be combined",
      "the server acts on its own repository; drop one of them",
    );
  }
  return {
    url,
    token: text(flags.token) ?? text(Deno.env.get("SWAMP_TOKEN")),
    caCertFile: text(flags["ca-cert"]),
    pin: text(flags.pin),
  };
}

/** The Connect client and the services' descriptors: what a command through a server loads. */
export function loadRemoteClient() {
  return Promise.all([
    import("../plugins/rpc/connect/mod.ts"),
    import("../proto/gen/swamp/v1/run_service_pb.ts"),
    import("../proto/gen/swamp/v1/repo_service_pb.ts"),
    import("../proto/gen/swamp/v1/auth_service_pb.ts"),
    import("../proto/gen/swamp/v1/worker_service_pb.ts"),
    import("../proto/gen/swamp/v1/data_service_pb.ts"),
  ]);
}

/** The services over a Connect transport to the server. */
export async function remoteServices(settings: RemoteSettings): Promise<{
  runs: ServiceClient<typeof RunService>;
  repo: ServiceClient<typeof RepoService>;
  auth: ServiceClient<typeof AuthService>;
  workers: ServiceClient<typeof WorkerService>;
  data: ServiceClient<typeof DataService>;
}> {
  const [
    { remoteClient, remoteConnection, serverUrl },
    { RunService },
    { RepoService },
    { AuthService },
    { WorkerService },
    { DataService },
  ] = await loadRemoteClient();
  let caCert: string | undefined;
  if (settings.caCertFile) {
    try {
      caCert = await Deno.readTextFile(settings.caCertFile);
    } catch (error) {
      throw new UsageError(
        `cannot read --ca-cert ${settings.caCertFile}: ${(error as Error).message}`,
      );
    }
  }
  const { transport, close } = await remoteConnection(serverUrl(settings.url), {
    token: settings.token,
    caCert,
    pin: settings.pin,
  });
  // Served by a waiting supervisor, the command's connection (and its token) ends with it.
  closeWithCommand(() => Promise.resolve(close()));
  return {
    runs: remoteClient(RunService, transport),
    repo: remoteClient(RepoService, transport),
    auth: remoteClient(AuthService, transport),
    workers: remoteClient(WorkerService, transport),
    data: remoteClient(DataService, transport),
  };
}
