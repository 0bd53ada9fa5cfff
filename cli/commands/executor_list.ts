// `swamp executor list`: the executors of this CLI's registry, with the
// repository's extension executors when run inside one.
import { type Executor, type ExecutorRegistry, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { executors } from "../wiring.ts";

/** An executor as `executor list` and `executor test` print it under --json. */
export function executorJson(registry: ExecutorRegistry | undefined, executor: Executor) {
  const origin = registry?.origin(executor.name);
  return {
    name: executor.name,
    origin: origin?.kind ?? "extension",
    ...(origin?.path ? { path: origin.path } : {}),
    apiVersion: executor.apiVersion,
    features: { ...executor.features },
    default: registry?.defaultName === executor.name,
    runsOnWorkers: executor.runsOnWorkers === true,
    settings: executor.settings !== undefined,
  };
}

export function featuresText(executor: Executor): string {
  const on = Object.entries(executor.features).filter(([, v]) => v).map(([k]) => k);
  return on.join(",") || "-";
}

export async function run(ctx: CommandContext): Promise<number> {
  // Outside a repository only the built-ins: there are no extensions to load.
  const repoRoot = await ctx.locator.root().catch((error) => {
    if (error instanceof SwampError && error.codeName === "repo_not_found") return undefined;
    throw error;
  });
  const registry = await executors({ repoRoot });
  const listed = [...registry.values()].map((e) => executorJson(registry, e));
  ctx.out.document({ executors: listed });
  ctx.out.table(
    ["NAME", "ORIGIN", "API", "FEATURES", "DEFAULT", "WORKERS"],
    listed.map((e) => [
      e.name,
      e.path ?? e.origin,
      String(e.apiVersion),
      featuresText(registry.get(e.name)!),
      e.default ? "yes" : "-",
      e.runsOnWorkers ? "yes" : "-",
    ]),
  );
  return 0;
}
