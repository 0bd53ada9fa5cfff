// The composition root's choices: which store, which executors, how a
// supervisor process is started. Plugins are imported here and nowhere else
// above them; heavy ones load only when a command needs them.
import type {
  DataStore,
  ExecutorRegistry,
  ExpressionEvaluator,
  ExtensionInspector,
  LaunchedSupervisor,
  RunServiceEnv,
  RunStore,
  StepSlots,
} from "../runtime/mod.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { closeWithCommand } from "./request_scope.ts";
import { repoData } from "./data_reader.ts";
import {
  checkoutRoot,
  handOverToStandby,
  startSupervisorProcess,
  unrefChild,
} from "./supervisor_process.ts";
import { takeSubmittedAhead } from "./standby_ahead.ts";
import { createDenoExtensionInspector } from "../plugins/extensions/deno/mod.ts";

export { unrefChild };
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

export interface RepoStoreOptions {
  /**
   * A SQLite store leaves checkpoints of its log to a thread of their own
   * (serve's, cli/serve/checkpoint_thread.ts; decision 0037). Other stores
   * ignore it.
   */
  deferCheckpoints?: boolean;
}

/** Opens the store a repository's .swamp.yaml names. */
export async function openRepoStore(
  repoRoot: string,
  options: RepoStoreOptions = {},
): Promise<RunStore> {
  const store = await openStoreOf(repoRoot, options);
  closeWithCommand(() => store.close());
  return store;
}

/** The database file of a repository whose store is SQLite, else undefined. */
export async function sqliteDatabaseOf(repoRoot: string): Promise<string | undefined> {
  const { readRepoConfig } = await import("../runtime/mod.ts");
  const config = await readRepoConfig(repoRoot);
  return config.store === "sqlite" ? sqlitePath(repoRoot) : undefined;
}

const sqlitePath = (repoRoot: string) => `${repoRoot}/.swamp/swamp.db`;

async function openStoreOf(repoRoot: string, options: RepoStoreOptions): Promise<RunStore> {
  const { openingError, readRepoConfig, stateError } = await import("../runtime/mod.ts");
  const config = await readRepoConfig(repoRoot).catch(async (error) => {
    throw await openingError(error, repoRoot);
  });
  const stateDir = `${repoRoot}/.swamp`;
  try {
    // Every store makes the state directory again when it is missing (postgres: for spool files),
    // but not the repository around it: a repository deleted while this opens stays deleted.
    await Deno.mkdir(stateDir).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    if (config.store === "postgres") {
      const { openPostgresRepoStore } = await import("./postgres_store.ts");
      return await openPostgresRepoStore(repoRoot, config);
    }
    if (config.store === "sqlite") {
      const { openSqliteStore } = await import("../plugins/stores/sqlite/mod.ts");
      return await openSqliteStore(sqlitePath(repoRoot), {
        checkpoints: options.deferCheckpoints ? "deferred" : "inline",
      });
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
/**
 * The executors this process may run steps with, in one registry: the
 * built-ins (loopback, the default for steps with no `executor:` block, and
 * docker), then, given a repository, its extension executors
 * (extensions/executors/*.ts), all registered the same way.
 */
export async function executors(
  options: { dockerSocket?: string; repoRoot?: string } = {},
): Promise<ExecutorRegistry> {
  const [{ createLoopbackExecutor }, { createDockerExecutor }, { ExecutorRegistry }] = await Promise
    .all([
      import("../plugins/executors/loopback/mod.ts"),
      import("../plugins/executors/docker/mod.ts"),
      import("../runtime/mod.ts"),
    ]);
  const registry = new ExecutorRegistry()
    .register(createLoopbackExecutor(), { kind: "builtin" }, { default: true })
    .register(createDockerExecutor({ socket: options.dockerSocket }), { kind: "builtin" });
  if (options.repoRoot !== undefined) {
    const { registerExtensionExecutors } = await import("./executor_modules.ts");
    await registerExtensionExecutors(registry, options.repoRoot);
  }
  return registry;
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
 * the process until it has claimed the run, then lets it go. A supervisor
 * started ahead for this command (cli/supervisor_process.ts) is handed the run
 * instead, when there is one.
 */
export async function launchSupervisor(
  repoRoot: string,
  runId: string,
  options: { resumeInputs?: Record<string, unknown> } = {},
): Promise<LaunchedSupervisor> {
  const request = { repoRoot, runId, resumeInputs: options.resumeInputs ?? {} };
  const process = await handOverToStandby(request) ??
    startSupervisorProcess([repoRoot, runId], {
      // Read and removed by the supervisor at once, so no step inherits it.
      SWAMP_RESUME_INPUTS: JSON.stringify(request.resumeInputs),
    });
  const { child, command } = process;
  return {
    exited: child.status.then((status) => ({
      failed: status.signal
        ? `was killed by ${status.signal}`
        : status.success
        ? undefined
        : `exited with status ${status.code}`,
    })),
    command,
    release: () => unrefChild(child),
  };
}

export function runServiceEnv(locator: RepoLocator): RunServiceEnv {
  let loaded: Promise<ExecutorRegistry> | undefined;
  let evaluator: ExpressionEvaluator | undefined;
  let data: Promise<DataStore> | undefined;
  return {
    locator,
    openStore: openRepoStore,
    executors: () => loaded ??= locator.root().then((repoRoot) => executors({ repoRoot })),
    expressions: () =>
      evaluator ??= lazyEvaluator(() =>
        data ??= locator.root().then(async (root) => repoData(root, await openRepoStore(root)))
      ),
    extensions: extensionInspector(),
    launchSupervisor,
    submittedAhead: takeSubmittedAhead,
    clock: systemClock,
    ids: randomIds,
    followPollMs: followPollOverride(),
  };
}

/**
 * `SWAMP_FOLLOW_POLL_MS`: how long a follower (watch, logs --follow) waits
 * for a change before it reads the store anyway (decision 0028); unset, 150 ms,
 * or 2 s where the store reports changes itself (PostgreSQL).
 */
export function followPollOverride(): number | undefined {
  const value = Number(Deno.env.get("SWAMP_FOLLOW_POLL_MS"));
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Reads extension modules' schemas in a sandboxed Deno subprocess, with the
 * checkout's zod (plugins/extensions/deno). `SWAMP_EXTENSION_TIMEOUT_MS`
 * bounds one import (default 10 s); `SWAMP_EXTENSION_SPAWN_LOG` names a file
 * that gets a line per module imported (tests count them).
 */
export function extensionInspector(): ExtensionInspector {
  const options = {
    zodDir: zodDir(),
    spawnLog: Deno.env.get("SWAMP_EXTENSION_SPAWN_LOG") || undefined,
    timeoutMs: Number(Deno.env.get("SWAMP_EXTENSION_TIMEOUT_MS")) || undefined,
  };
  // Made once per set of options: a server asks for one per run, and making one encodes and
  // hashes the sandbox's harness (about 0.1 ms of the run thread per run).
  const key = JSON.stringify(options);
  if (inspector?.key !== key) inspector = { key, value: createDenoExtensionInspector(options) };
  return inspector.value;
}

let inspector: { key: string; value: ExtensionInspector } | undefined;

/** The zod 4 package extension modules import. */
export function zodDir(): string {
  return realPath(`${checkoutRoot}/node_modules/zod`);
}

function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
