// A `swamp serve` instance on a store several machines share (decision
// 0027): it registers in the store's instance registry and heartbeats every
// second; every second it also looks for instances whose heartbeat lapsed
// and hands their active runs to its run thread, which claims each one (the
// owner epoch's compare-and-swap: of several instances racing, one wins).
import { RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  fits,
  hostName,
  instanceHeartbeatMs,
  type InstanceInfo,
  instanceLapseMs,
  type InstanceRegistry,
  isLapsed,
  isSettledRun,
  isTerminalStep,
  loadFoldedRun,
  type PeerWorker,
  type Placement,
  type RunStore,
} from "../../runtime/mod.ts";

/** How much longer an instance holding none of a dead instance's workers waits before it claims. */
const preferMs = 3000;

/**
 * Whether a lease of `runId` held by a reconnecting worker may be adopted by
 * `instance`: the run's owner is this instance, or one that is dead.
 */
export async function mayAdoptFor(
  store: RunStore,
  registry: InstanceRegistry,
  instance: string,
  runId: string,
): Promise<boolean> {
  const run = await loadFoldedRun(store, runId);
  if (!run) return false;
  const owner = run.owner?.server ?? "";
  if (owner === instance) return true;
  if (owner === "") return false;
  // A worker of a dead instance is usually back before that instance's heartbeat has lapsed:
  // wait for the verdict (a live owner keeps beating, and the lease is then not ours).
  const deadline = Date.now() + instanceLapseMs + 2 * instanceHeartbeatMs;
  for (;;) {
    const found = (await registry.list()).find((i) => i.id === owner);
    if (!found || isLapsed(found)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, instanceHeartbeatMs / 2));
  }
}

/**
 * Resolves once the run's record shows the end of the step that ran under
 * `leaseId` (its status terminal, another lease on it, or the run
 * settled): polled, for at most ten minutes.
 */
export async function stepRecorded(
  store: RunStore,
  runId: string,
  stepId: string,
  leaseId: string,
): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const run = await loadFoldedRun(store, runId).catch(() => undefined);
    if (!run || isSettledRun(run.status)) return;
    const step = run.steps.find((s) => s.id === stepId);
    if (!step || isTerminalStep(step.status)) return;
    // A later attempt runs under another lease: this one's end was recorded before it.
    const under = step.process?.leaseId ?? "";
    if (under !== "" && under !== leaseId) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface InstanceEvents {
  /** Another instance's heartbeat lapsed; its runs are being taken over. */
  lapsed(instance: string, runs: string[]): void;
  error(where: string, error: unknown): void;
}

export interface InstanceLife {
  /** Whether another instance beats now: one that could take this one's runs over. */
  othersAlive(): Promise<boolean>;
  /**
   * Stops beating and marks this instance released, so the others take its
   * runs over at once (decision 0030); its row stays until they have.
   */
  release(): Promise<void>;
  /** Stops beating; the row goes unless it was released with runs left to take. */
  stop(): Promise<void>;
  /** The other live instances as last read (each second), with the workers they published. */
  peers(): InstanceInfo[];
}

/** Registers `instance` and keeps it alive; takes over lapsed instances' runs through `takeOver`. */
export async function liveInstance(
  store: RunStore,
  registry: InstanceRegistry,
  instance: string,
  takeOver: (runId: string, from: string, released: boolean) => void,
  events: InstanceEvents,
  /** Runs whose workers' leases wait here or can move here: taken over at once; the rest later. */
  holdsWorkOf: () => Promise<Set<string>> = () => Promise.resolve(new Set()),
  /** The workers connected here, published for the other instances when they change. */
  workers: () => PeerWorker[] = () => [],
): Promise<InstanceLife> {
  await registry.register({ id: instance, host: hostName(), pid: Deno.pid });
  const handed = new Set<string>();
  /** The beat under way, if one is. */
  let beating: Promise<void> | undefined;
  /** When this instance last failed to reach the registry. */
  let lastFailure = 0;
  let published = "[]";
  let peers: InstanceInfo[] = [];
  const beat = async () => {
    try {
      if (!await registry.heartbeat(instance)) {
        // Removed as dead (a long pause): back in the registry; runs taken meanwhile are fenced.
        await registry.register({ id: instance, host: hostName(), pid: Deno.pid });
      }
      const connected = JSON.stringify(workers());
      if (connected !== published) {
        await registry.publishWorkers(instance, JSON.parse(connected));
        published = connected;
      }
      const all = await registry.list();
      peers = all.filter((i) => i.id !== instance && !isLapsed(i));
      // Another's lapse is evidence only while this one could beat: after an outage of the
      // database every instance looks lapsed until its next heartbeat.
      if (Date.now() - lastFailure < instanceLapseMs + 2 * instanceHeartbeatMs) return;
      const lapsed = all.filter((i) => i.id !== instance && isLapsed(i));
      const holding = lapsed.length > 0 ? await holdsWorkOf() : new Set<string>();
      for (const dead of lapsed) {
        const runs = await runsOwnedBy(store, dead.id);
        // The instance the dead one's workers are connected to (their leases parked there, or
        // movable there) claims first; any other waits `preferMs` more, so it wins only when
        // nobody holds them.
        // A released instance's age counts from its release: it needs no lapse to be dead.
        const late = dead.ageMs > (dead.released ? 0 : instanceLapseMs) + preferMs;
        const fresh = runs.filter((id) => !handed.has(id) && (late || holding.has(id)));
        if (fresh.length > 0) events.lapsed(dead.id, fresh);
        for (const runId of fresh) {
          handed.add(runId);
          takeOver(runId, dead.id, dead.released);
        }
        // Nothing of it is left to take: it leaves the registry.
        if (runs.length === 0) await registry.remove(dead.id);
      }
    } catch (error) {
      lastFailure = Date.now();
      events.error("instance registry", error);
    }
  };
  const timer = setInterval(() => {
    beating ??= beat().finally(() => beating = undefined);
  }, instanceHeartbeatMs);
  let released = false;
  return {
    peers: () => peers,
    async othersAlive() {
      const all = await registry.list();
      return all.some((i) => i.id !== instance && !isLapsed(i));
    },
    async release() {
      clearInterval(timer);
      // A beat under way would write its heartbeat after the release: let it end first.
      await beating;
      await registry.release(instance);
      released = true;
    },
    async stop() {
      clearInterval(timer);
      if (released && (await runsOwnedBy(store, instance)).length > 0) return;
      await registry.remove(instance).catch(() => {});
    },
  };
}

/**
 * Waits up to `ms` for other instances to claim `runs` from `instance`;
 * returns each run's owner instance then (this one's id while nobody
 * claimed it; a run that has ended since names the instance that ended it).
 */
export async function newOwners(
  store: RunStore,
  instance: string,
  runs: string[],
  ms: number,
): Promise<Map<string, string>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const owners = new Map<string, string>();
    let waiting = false;
    for (const runId of runs) {
      const run = await loadFoldedRun(store, runId).catch(() => undefined);
      const owner = run?.owner?.server ?? "";
      owners.set(runId, owner);
      if (owner === instance && run && !isSettledRun(run.status)) waiting = true;
    }
    if (!waiting || Date.now() > deadline) return owners;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The active runs (not suspended: no owner runs those) whose owner is `instance`. */
async function runsOwnedBy(store: RunStore, instance: string): Promise<string[]> {
  const owned: string[] = [];
  for (const summary of await store.listActiveRuns()) {
    if (summary.status === RunStatus.SUSPENDED) continue;
    const run = await loadFoldedRun(store, summary.id);
    if (run && !isSettledRun(run.status) && run.owner?.server === instance) owned.push(run.id);
  }
  return owned;
}

/**
 * What a queued step's reason adds when workers that fit it are connected to
 * other live instances and not to this one (`here`): this one cannot
 * dispatch to them (decision 0027).
 */
export function elsewhereReason(
  peers: InstanceInfo[],
  placement: Placement,
  here: ReadonlySet<string> = new Set(),
): string {
  const found: string[] = [];
  for (const peer of peers) {
    for (const worker of peer.workers) {
      if (here.has(worker.id) || !fits({ ...worker, running: 0 }, placement)) continue;
      found.push(`${worker.name} on instance ${peer.id} (${peer.host})`);
    }
  }
  if (found.length === 0) return "";
  const shown = found.slice(0, 3).join(", ") +
    (found.length > 3 ? `, and ${found.length - 3} more` : "");
  return `; connected to other instances: ${shown}. A run uses the workers connected to the ` +
    "instance that owns it: give the worker this instance's URL too (it connects to every URL " +
    "it is given), or submit the run to that instance (docs/guides/ha.md)";
}
