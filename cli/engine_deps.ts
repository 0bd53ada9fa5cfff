// What an engine needs, as the CLI wires it: shared by the run supervisor
// process (cli/supervise.ts) and `swamp serve`, which owns runs in-process.
import {
  type ExpressionEvaluator,
  loadModelCatalog,
  randomIds,
  reconcileRun,
  RunMasks,
  type RunStore,
  type superviseRun,
  systemClock,
} from "../runtime/mod.ts";
import { executors, extensionInspector, hostSlots, zodDir } from "./wiring.ts";
import { localExtensionMethods } from "./extension_methods.ts";
import { LocalVault } from "../plugins/vaults/local/mod.ts";

export type EngineDeps = Parameters<typeof superviseRun>[0];

export async function engineDeps(
  repoRoot: string,
  store: RunStore,
  evaluator: ExpressionEvaluator,
): Promise<EngineDeps> {
  const executorMap = await executors({ repoRoot });
  const secrets = new LocalVault(repoRoot);
  return {
    store,
    // The registry's default: the executor of steps whose workflow names none.
    executor: executorMap.get(executorMap.defaultName!)!,
    executors: executorMap,
    evaluator,
    // vault.get resolves here, on the orchestrator, from the repository's vaults.
    secrets,
    // Extension methods reach data and vaults only through the capability service.
    extensionMethods: localExtensionMethods({
      data: store,
      leases: store,
      secrets,
      evaluator,
      zodDir: zodDir(),
    }),
    // One per process: the capability service adds the secrets it hands a step
    // to `deps.masks.of(runId)`, the same mask the run's engine writes with.
    masks: new RunMasks(),
    clock: systemClock,
    ids: randomIds,
    models: await loadModelCatalog(repoRoot, { extensions: extensionInspector() }),
    repoRoot,
    maxParallel: Number(Deno.env.get("SWAMP_MAX_CONCURRENT_STEPS")) || 16,
    hostSlots: await hostSlots(),
    graceMs: Number(Deno.env.get("SWAMP_CANCEL_GRACE_MS")) || 3000,
    outputLimitBytes: 64 * 1024,
    pollMs: 250,
    // A lock held by a run whose owner died is freed by reconciling that run.
    reapIfAbandoned: async (holder) =>
      (await reconcileRun({ store, clock: systemClock, executors: executorMap }, holder)) !==
        undefined,
  };
}
