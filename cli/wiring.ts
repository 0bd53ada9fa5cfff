// The composition root's choices: which store, which executors, how a
// supervisor process is started. Plugins are imported here and nowhere else
// above them; heavy ones load only when a command needs them.
import type { Executor, RunServiceEnv, RunStore } from "../runtime/mod.ts";
import { randomIds, type RepoLocator, systemClock } from "../runtime/mod.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Opens the store a repository's .swamp.yaml names. */
export async function openRepoStore(repoRoot: string): Promise<RunStore> {
  const { readRepoConfig } = await import("../runtime/mod.ts");
  const config = await readRepoConfig(repoRoot);
  if (config.store === "sqlite") {
    const { openSqliteStore } = await import("../plugins/stores/sqlite/mod.ts");
    return await openSqliteStore(`${repoRoot}/.swamp/swamp.db`);
  }
  const { openFileStore } = await import("../plugins/stores/file/mod.ts");
  return await openFileStore(`${repoRoot}/.swamp`);
}

/** Every executor this build knows, by name. */
export async function executors(): Promise<Map<string, Executor>> {
  const { createLoopbackExecutor } = await import("../plugins/executors/loopback/mod.ts");
  const loopback = createLoopbackExecutor();
  return new Map([[loopback.name, loopback]]);
}

/** Who is acting: --actor, else SWAMP_ACTOR, else the OS user. */
export function actorFrom(flag: unknown): string {
  if (typeof flag === "string" && flag.trim() !== "") return flag.trim();
  return Deno.env.get("SWAMP_ACTOR") || Deno.env.get("USER") || Deno.env.get("LOGNAME") ||
    "unknown";
}

/**
 * Starts `cli/supervise.ts` for a run in a new session (setsid), so closing
 * the terminal or killing the CLI does not stop the run.
 */
export async function launchSupervisor(repoRoot: string, runId: string): Promise<void> {
  const args = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-all",
    `--config=${root}/deno.json`,
    `${root}/cli/supervise.ts`,
    repoRoot,
    runId,
  ];
  const child = new Deno.Command("setsid", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { ...Deno.env.toObject(), SWAMP_SUPERVISOR: "1" },
  }).spawn();
  child.unref();
  await Promise.resolve();
}

export function runServiceEnv(locator: RepoLocator, actor: string): RunServiceEnv {
  let loaded: Promise<Map<string, Executor>> | undefined;
  return {
    locator,
    openStore: openRepoStore,
    executors: () => loaded ??= executors(),
    launchSupervisor,
    clock: systemClock,
    ids: randomIds,
    defaultActor: actor,
  };
}
