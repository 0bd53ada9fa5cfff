import type { AuthService } from "../proto/gen/swamp/v1/auth_service_pb.ts";
import type { DataService } from "../proto/gen/swamp/v1/data_service_pb.ts";
import type { RepoService } from "../proto/gen/swamp/v1/repo_service_pb.ts";
import type { RunService } from "../proto/gen/swamp/v1/run_service_pb.ts";
import type { WorkerService } from "../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  bindService,
  type CallContext,
  localAuthService,
  localDataService,
  localRepoService,
  localRunService,
  localWorkerService,
  randomIds,
  type RepoLocator,
  repoLocator,
  type ServiceClient,
  systemClock,
} from "../runtime/mod.ts";
import type { FlagValues } from "./types.ts";
import { localPrincipal, openRepoStore, runServiceEnv } from "./wiring.ts";
import type { Output } from "./output.ts";
import { remoteServices, remoteSettings } from "./remote.ts";
import { fileRoster } from "./serve/worker_roster.ts";
import { repoData } from "./data_reader.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { absolute } from "./absolute_path.ts";

/** What a command handler gets: its arguments, the output, and the services. */
export interface CommandContext {
  args: string[];
  flags: FlagValues;
  out: Output;
  locator: RepoLocator;
  runs: ServiceClient<typeof RunService>;
  repo: ServiceClient<typeof RepoService>;
  auth: ServiceClient<typeof AuthService>;
  workers: ServiceClient<typeof WorkerService>;
  data: ServiceClient<typeof DataService>;
  /** The server's URL when the command goes through one (--server or SWAMP_SERVER). */
  server?: string;
}

/**
 * The composition root: the in-process services bound to the OS user, or,
 * with --server, the same services over a Connect transport. Commands cannot
 * tell the difference (DESIGN §4: one code path per command).
 */
export async function createContext(
  args: string[],
  flags: FlagValues,
  out: Output,
  remoteAllowed: boolean,
): Promise<CommandContext> {
  const explicitRoot = typeof flags.repo === "string" ? absolute(flags.repo) : undefined;
  const locator = repoLocator(Deno.cwd(), explicitRoot);
  const remote = remoteAllowed ? remoteSettings(flags) : undefined;
  if (remote) {
    return { args, flags, out, locator, server: remote.url, ...await remoteServices(remote) };
  }
  const principal = localPrincipal();
  const context = (): CallContext => ({ principal, signal: new AbortController().signal });
  let store: ReturnType<typeof openRepoStore> | undefined;
  const tokens = () => store ??= locator.root().then(openRepoStore);
  return {
    args,
    flags,
    out,
    locator,
    runs: bindService(localRunService(runServiceEnv(locator)), context),
    repo: bindService(localRepoService(locator, randomIds), context),
    auth: bindService(localAuthService(tokens, systemClock), context),
    workers: bindService(
      localWorkerService(tokens, systemClock, { roster: fileRoster(() => locator.root()) }),
      context,
    ),
    data: bindService(
      localDataService(
        async () => repoData(await locator.root(), await tokens()),
        () => lazyEvaluator(),
      ),
      context,
    ),
  };
}
