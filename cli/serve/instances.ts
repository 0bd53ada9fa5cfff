// A `swamp serve` instance on a store several machines share (decision
// 0027): it registers in the store's instance registry and heartbeats every
// second; every second it also looks for instances whose heartbeat lapsed
// and hands their active runs to its run thread, which claims each one (the
// owner epoch's compare-and-swap: of several instances racing, one wins).
import { RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  foldEvents,
  hostName,
  instanceHeartbeatMs,
  type InstanceRegistry,
  isLapsed,
  isSettledRun,
  type RunStore,
} from "../../runtime/mod.ts";

export interface InstanceEvents {
  /** Another instance's heartbeat lapsed; its runs are being taken over. */
  lapsed(instance: string, runs: string[]): void;
  error(where: string, error: unknown): void;
}

export interface InstanceLife {
  stop(): Promise<void>;
}

/** Registers `instance` and keeps it alive; takes over lapsed instances' runs through `takeOver`. */
export async function liveInstance(
  store: RunStore,
  registry: InstanceRegistry,
  instance: string,
  takeOver: (runId: string, from: string) => void,
  events: InstanceEvents,
): Promise<InstanceLife> {
  await registry.register({ id: instance, host: hostName(), pid: Deno.pid });
  const handed = new Set<string>();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!await registry.heartbeat(instance)) {
        // Removed as dead (a long pause): back in the registry; runs taken meanwhile are fenced.
        await registry.register({ id: instance, host: hostName(), pid: Deno.pid });
      }
      const lapsed = (await registry.list()).filter((i) => i.id !== instance && isLapsed(i));
      for (const dead of lapsed) {
        const runs = await runsOwnedBy(store, dead.id);
        const fresh = runs.filter((id) => !handed.has(id));
        if (fresh.length > 0) events.lapsed(dead.id, fresh);
        for (const runId of fresh) {
          handed.add(runId);
          takeOver(runId, dead.id);
        }
        // Nothing of it is left to take: it leaves the registry.
        if (runs.length === 0) await registry.remove(dead.id);
      }
    } catch (error) {
      events.error("instance registry", error);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), instanceHeartbeatMs);
  return {
    async stop() {
      clearInterval(timer);
      await registry.remove(instance).catch(() => {});
    },
  };
}

/** The active runs (not suspended: no owner runs those) whose owner is `instance`. */
async function runsOwnedBy(store: RunStore, instance: string): Promise<string[]> {
  const owned: string[] = [];
  for (const summary of await store.listActiveRuns()) {
    if (summary.status === RunStatus.SUSPENDED) continue;
    const stored = await store.loadRun(summary.id);
    if (!stored) continue;
    const run = foldEvents(stored.snapshot, stored.tail);
    if (!isSettledRun(run.status) && run.owner?.server === instance) owned.push(run.id);
  }
  return owned;
}
