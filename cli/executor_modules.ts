// Executor modules: a repository's extensions/executors/*.ts, and the module
// `swamp executor test PATH` checks. An executor is trusted code: it is
// imported into this process (the orchestrator, or a run's supervisor) with
// all of this process's permissions, because it starts, watches and ends the
// steps' processes itself. A model method is different: it runs in a Deno
// subprocess with narrow permissions (DESIGN §14). Only put executors you
// would run as your own code in extensions/executors/.
import {
  checkExecutor,
  describeCause,
  ErrorCode,
  type Executor,
  executorApi,
  type ExecutorRegistry,
  SwampError,
} from "../runtime/mod.ts";
import { absolute } from "./absolute_path.ts";

/** Where a repository keeps its executor modules. */
export const executorModulesDir = "extensions/executors";

/**
 * Imports the module at `path` and returns its executor: the module's
 * `default` export (or `executor`), either an executor or a function of the
 * executor API that returns one. `shown` names the module in errors.
 */
export async function loadExecutorModule(path: string, shown = path): Promise<Executor> {
  const url = moduleUrl(path);
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    throw loadFailed(shown, "could not be imported", error);
  }
  const exported = module.default ?? module.executor;
  let executor: unknown = exported;
  if (typeof exported === "function") {
    try {
      executor = await exported(executorApi());
    } catch (error) {
      throw loadFailed(shown, "threw while making its executor", error);
    }
  }
  checkExecutor(executor, shown);
  return executor;
}

/** Registers every executor module of the repository at `root`, in name order. */
export async function registerExtensionExecutors(
  registry: ExecutorRegistry,
  root: string,
): Promise<void> {
  for (const name of await modulesIn(`${root}/${executorModulesDir}`)) {
    const shown = `${executorModulesDir}/${name}`;
    const module = await loadExecutorModule(`${root}/${shown}`, shown);
    registry.register(module, { kind: "extension", path: shown });
  }
}

/**
 * The file URL of `path` (absolute, or relative to the working directory).
 * Written here rather than taken from node:url, whose import brings in
 * Deno's Node layer on every command that opens a repository.
 */
export function moduleUrl(path: string): string {
  const url = new URL("file:///");
  // What the URL parser would take as an escape or a separator, or drop, is escaped first.
  url.pathname = absolute(path).replace(
    /[%\\\t\n\r]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return url.href;
}

/** The executor module file names in `dir`, sorted. */
/** The executor module files in `dir` (tests aside), in name order; none when it is missing. */
export async function modulesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /\.(ts|js|mjs)$/.test(entry.name) && !/_test\.[tj]s$/.test(entry.name)) {
        out.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return out.sort();
}

function loadFailed(shown: string, what: string, error: unknown): SwampError {
  const cause = describeCause(error);
  return new SwampError(
    ErrorCode.EXECUTOR_LOAD_FAILED,
    `executor module ${shown} ${what}: ${cause.split("\n")[0]}`,
    {
      hint: `fix ${shown}, or move it out of ${executorModulesDir}/; ` +
        "`swamp executor test PATH` loads one module and runs the contract on it",
    },
  );
}
