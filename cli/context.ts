import type { RepoService } from "../proto/gen/swamp/v1/repo_service_pb.ts";
import type { RunService } from "../proto/gen/swamp/v1/run_service_pb.ts";
import {
  localRepoService,
  localRunService,
  randomIds,
  type RepoLocator,
  repoLocator,
  type ServiceClient,
} from "../runtime/mod.ts";
import type { FlagValues } from "./types.ts";
import { actorFrom, runServiceEnv } from "./wiring.ts";
import type { Output } from "./output.ts";

/** What a command handler gets: its arguments, the output, and the services. */
export interface CommandContext {
  args: string[];
  flags: FlagValues;
  out: Output;
  locator: RepoLocator;
  /** Who is acting (recorded on runs and decisions). */
  actor: string;
  runs: ServiceClient<typeof RunService>;
  repo: ServiceClient<typeof RepoService>;
}

/** The composition root: wires the in-process services for one command. */
export function createContext(
  args: string[],
  flags: FlagValues,
  out: Output,
): CommandContext {
  const explicitRoot = typeof flags.repo === "string" ? absolute(flags.repo) : undefined;
  const locator = repoLocator(Deno.cwd(), explicitRoot);
  const actor = actorFrom(flags.actor);
  return {
    args,
    flags,
    out,
    locator,
    actor,
    runs: localRunService(runServiceEnv(locator, actor)),
    repo: localRepoService(locator, randomIds),
  };
}

export function absolute(path: string): string {
  if (path.startsWith("/")) return path.replace(/\/+$/, "") || "/";
  const joined = `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
