// The composition root's choices: which store, which executors, how a
// supervisor process is started. Plugins are imported here and nowhere else
// above them; heavy ones load only when a command needs them.
import type {
  DataStore,
  Executor,
  ExpressionEvaluator,
  ExtensionInspector,
  LaunchedSupervisor,
  RunServiceEnv,
  RunStore,
  StepSlots,
} from "../runtime/mod.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { repoData } from "./data_reader.ts";
import { createDenoExtensionInspector } from "../plugins/extensions/deno/mod.ts";
import {
  ActorKind,
  ErrorCode,
  type Principal,
  randomIds,
  type RepoLocator,
  Role,
  SwampError,
  systemClock,
} from "../runtime/mod.ts";

// The checkout this CLI runs from. The launcher says (a bundle lives
// elsewhere); running from source, it is this file's parent directory.
const root = Deno.env.get("SWAMP_CHECKOUT") ??
  decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** Opens the store a repository's .swamp.yaml names. */
export async function openRepoStore(repoRoot: string): Promise<RunStore> {
  const { openingError, readRepoConfig, stateError } = await import("../runtime/mod.ts");
  const config = await readRepoConfig(repoRoot).catch(async (error) => {
    throw await openingError(error, repoRoot);
  });
  const stateDir = `${repoRoot}/.swamp`;
  try {
    // Both stores make their state directory again when it is missing.
    await Deno.mkdir(stateDir, { recursive: true });
    if (config.store === "sqlite") {
      const { openSqliteStore } = await import("../plugins/stores/sqlite/mod.ts");
      return await openSqliteStore(`${stateDir}/swamp.db`);
    }
    const { openFileStore } = await import("../plugins/stores/file/mod.ts");
    return await openFileStore(stateDir);
  } catch (error) {
    throw await stateError(error, stateDir);
  }
}

/**
 * Every executor this build has, by name, in one explicit list. The Docker
 * executor loads its engine client only when a step uses it; `dockerSocket`
 * is its engine when a step names none (default DOCKER_HOST, else the
 * standard socket).
 */
export async function executors(
  options: { dockerSocket?: string } = {},
): Promise<Map<string, Executor>> {
  const [{ createLoopbackExecutor }, { createDockerExecutor }] = await Promise.all([
    import("../plugins/executors/loopback/mod.ts"),
    import("../plugins/executors/docker/mod.ts"),
  ]);
  const registered = [
    createLoopbackExecutor(),
    createDockerExecutor({ socket: options.dockerSocket }),
  ];
  return new Map(registered.map((executor) => [executor.name, executor]));
}

/** The host-wide step ceiling from the environment; undefined when it is off (`0`). */
export async function hostSlots(): Promise<StepSlots | undefined> {
  const settings = hostSlotSettings();
  if (!settings) return undefined;
  const { defaultSlotDir, openFlockSlots } = await import("../plugins/slots/flock/mod.ts");
  const dir = settings.dir ?? defaultSlotDir(Deno.env);
  return openFlockSlots({ dir, limit: settings.limit, mustOwn: settings.dir === undefined });
}

/**
 * `SWAMP_HOST_MAX_STEPS` (default 64, `0` for none) and `SWAMP_HOST_SLOTS_DIR`.
 * Checked by the CLI before it starts a supervisor, so a bad value is a usage
 * error at once rather than a run that fails later.
 */
export function hostSlotSettings(): { limit: number; dir?: string } | undefined {
  const text = Deno.env.get("SWAMP_HOST_MAX_STEPS")?.trim() || String(DEFAULT_HOST_MAX_STEPS);
  if (!/^\d+$/.test(text) || Number(text) > 100_000) {
    throw new SwampError(
      ErrorCode.USAGE,
      `SWAMP_HOST_MAX_STEPS is \`${text}\`, not a whole number of steps from 0 to 100000`,
      {
        hint: "set it to how many steps may run on this host at once (0 for no limit), or unset it",
      },
    );
  }
  const limit = Number(text);
  if (limit === 0) return undefined;
  return { limit, dir: Deno.env.get("SWAMP_HOST_SLOTS_DIR") || undefined };
}

const DEFAULT_HOST_MAX_STEPS = 64;

/**
 * The OS account running this process: the principal of every local command.
 * Read from the process's uid, not from USER or SWAMP_ACTOR, which anyone can set.
 */
export function localPrincipal(): Principal {
  const uid = Deno.uid();
  const name = userNameOf(uid) ?? (uid === null ? "unknown" : `uid-${uid}`);
  return { name, kind: ActorKind.OS_USER, role: Role.ADMIN };
}

/** The account name of `uid` from /etc/passwd, when neither USER nor LOGNAME is set (cron, containers). */
function userNameOf(uid: number | null): string | undefined {
  if (uid === null) return undefined;
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const [name, , id] = line.split(":");
      if (id === String(uid)) return name;
    }
  } catch {
    // No passwd file: fall through to "unknown".
  }
  return undefined;
}

/**
 * Starts `cli/supervise.ts` for a run in a new session (setsid), so closing
 * the terminal or killing the CLI does not stop the run. The caller watches
 * the process until it has claimed the run, then lets it go.
 */
export function launchSupervisor(
  repoRoot: string,
  runId: string,
  options: { resumeInputs?: Record<string, unknown> } = {},
): Promise<LaunchedSupervisor> {
  const args = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-all",
    ...supervisorProgram(),
    repoRoot,
    runId,
  ];
  const child = new Deno.Command("setsid", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: {
      ...Deno.env.toObject(),
      SWAMP_SUPERVISOR: "1",
      // Read and removed by the supervisor at once, so no step inherits it.
      SWAMP_RESUME_INPUTS: JSON.stringify(options.resumeInputs ?? {}),
    },
  }).spawn();
  return Promise.resolve({
    exited: child.status.then((status) => ({
      failed: status.signal
        ? `was killed by ${status.signal}`
        : status.success
        ? undefined
        : `exited with status ${status.code}`,
    })),
    command: args.join(" "),
    release: () => unrefChild(child),
  });
}

/**
 * The supervisor's program and its config flag. A CLI running from the
 * launcher's bundle starts the supervisor from the same bundle (cli/swamp
 * bundles cli/supervise.ts beside main.js): from the sources it loads a few
 * hundred modules and starts about twice as slow, which every run waits for
 * before its first step (bench/submit.ts). From the sources, or a bundle
 * built before it held the supervisor, it runs the sources.
 */
function supervisorProgram(): string[] {
  if (import.meta.url.startsWith("file:") && import.meta.url.endsWith(".js")) {
    for (const candidate of ["./supervise.js", "../supervise.js"]) {
      const path = decodeURIComponent(new URL(candidate, import.meta.url).pathname);
      try {
        if (Deno.statSync(path).isFile) return ["--no-config", path];
      } catch {
        // not in this layout
      }
    }
  }
  return [`--config=${root}/deno.json`, `${root}/cli/supervise.ts`];
}

/**
 * Lets this process exit while `child` runs on. A child that has just exited
 * (its exit seen by the runtime, not yet by our status promise) has no
 * resource left to unref: Deno throws BadResource, and there is nothing to do.
 */
export function unrefChild(child: Deno.ChildProcess): void {
  try {
    child.unref();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

export function runServiceEnv(locator: RepoLocator): RunServiceEnv {
  let loaded: Promise<Map<string, Executor>> | undefined;
  let evaluator: ExpressionEvaluator | undefined;
  let data: Promise<DataStore> | undefined;
  return {
    locator,
    openStore: openRepoStore,
    executors: () => loaded ??= executors(),
    expressions: () =>
      evaluator ??= lazyEvaluator(() =>
        data ??= locator.root().then(async (root) => repoData(root, await openRepoStore(root)))
      ),
    extensions: extensionInspector(),
    launchSupervisor,
    clock: systemClock,
    ids: randomIds,
  };
}

/**
 * Reads extension modules' schemas in a sandboxed Deno subprocess, with the
 * checkout's zod (plugins/extensions/deno). `SWAMP_EXTENSION_TIMEOUT_MS`
 * bounds one import (default 10 s); `SWAMP_EXTENSION_SPAWN_LOG` names a file
 * that gets a line per module imported (tests count them).
 */
export function extensionInspector(): ExtensionInspector {
  return createDenoExtensionInspector({
    zodDir: zodDir(),
    spawnLog: Deno.env.get("SWAMP_EXTENSION_SPAWN_LOG") || undefined,
    timeoutMs: Number(Deno.env.get("SWAMP_EXTENSION_TIMEOUT_MS")) || undefined,
  });
}

/** The zod 4 package extension modules import. */
export function zodDir(): string {
  return realPath(`${root}/node_modules/zod`);
}

function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
