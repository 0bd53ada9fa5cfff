// What `swamp serve` owns: one store, the runs submitted to it (run on its run
// thread under this server's instance id), a change feed that wakes its
// followers at once, and the gate timer.
import { AuthService } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { RepoService } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { DataService } from "../../proto/gen/swamp/v1/data_service_pb.ts";
import { CapabilityService } from "../../proto/gen/swamp/v1/capability_service_pb.ts";
import { bridgedCapabilityService } from "./capability_bridge.ts";
import {
  ChangeFeed,
  connectFeed,
  type ExecutorRegistry,
  type GateTimer,
  type HubEvent,
  hubRoster,
  type InstanceInfo,
  instanceLapseMs,
  localAuthService,
  localDataService,
  localRepoService,
  localRunService,
  localWorkerService,
  observedStore,
  patientStore,
  randomIds,
  type RepoLocator,
  type RunServiceEnv,
  type RunStore,
  startGateTimer,
  systemClock,
  systemPrincipal,
  withRuntimeModels,
  WorkerHub,
} from "../../runtime/mod.ts";
import { lazyEvaluator } from "../evaluator.ts";
import { repoData } from "../data_reader.ts";
import { startRunThread } from "./run_thread.ts";
import {
  executors,
  extensionInspector,
  followPollOverride,
  openRepoStore,
  sqliteDatabaseOf,
} from "../wiring.ts";
import { startCheckpointThread } from "./checkpoint_thread.ts";
import { publishRoster } from "./worker_roster.ts";
import { passEnvOf, serveHubBridge, withHubExecutor } from "./hub_bridge.ts";
import type { ServedService } from "../../plugins/rpc/connect/mod.ts";
import {
  elsewhereReason,
  type InstanceLife,
  liveInstance,
  mayAdoptFor,
  newOwners,
  stepRecorded,
} from "./instances.ts";

export interface Orchestrator {
  instance: string;
  store: RunStore;
  /** The connected workers; the remote executor dispatches steps through it. */
  hub: WorkerHub;
  services: ServedService[];
  /** Runs this process executes now. */
  owned(): string[];
  /** Reconciles what a previous server left (DESIGN §6); returns how many runs changed. */
  reconcileOnStart(): Promise<number>;
  /**
   * Drains the runs this instance owns. With another live instance on a
   * shared store they are handed over (decision 0030): nothing new starts,
   * each run is left to the others once none of its steps runs on this host;
   * `endStreams` (the workers' control streams) is called once they are, so
   * the workers take their steps to the instance that claims them. Otherwise
   * they get `ms` to settle. Runs still running a local step after `ms` are
   * cancelled.
   */
  drain(ms: number, endStreams: () => Promise<void>): Promise<DrainOutcome>;
  close(): Promise<void>;
}

export interface DrainOutcome {
  /** Runs still going at the drain timeout: cancelled, their processes confirmed gone. */
  cancelled: string[];
  /** Runs left to the other instances, with the one that claimed each (absent: not yet). */
  handedOver: { runId: string; to?: string }[];
}

/** How long a drain that handed runs over waits to see them claimed, for its report. */
const claimWaitMs = instanceLapseMs + 10_000;

export interface OrchestratorEvents {
  runStarted(runId: string): void;
  runSettled(runId: string, error?: string): void;
  error(where: string, error: unknown): void;
  worker(event: HubEvent): void;
  /** Another instance on the shared store died; its runs are being taken over (0027). */
  takeover?(from: string, runs: string[]): void;
}

export interface OrchestratorOptions {
  /** How long a disconnected worker keeps its session and leases (default 30 s). */
  workerGraceMs?: number;
  /** Names of this process's environment variables passed to steps on remote workers. */
  passEnv?: string[];
  /**
   * The nice value of the run thread and of the local steps it starts (default 5): under
   * contention for the CPU, the thread that answers calls goes first (decision 0038).
   */
  runsNice?: number;
}

/** The run thread's nice value when none is given (decision 0038). */
const defaultRunsNice = 5;

export async function startOrchestrator(
  locator: RepoLocator,
  events: OrchestratorEvents,
  options: OrchestratorOptions = {},
): Promise<Orchestrator> {
  const root = await locator.root();
  const instance = crypto.randomUUID();
  const feed = new ChangeFeed();
  // Calls ride out a short outage of a database store (0027); the API's own deadlines still hold.
  // On SQLite, the log's checkpoints (and their file syncs) happen on a thread of their own, not
  // in the commits of this thread or the run thread (decision 0037).
  const opened = await openRepoStore(root, { deferCheckpoints: true });
  const database = await sqliteDatabaseOf(root);
  const checkpoints = database === undefined
    ? undefined
    : startCheckpointThread(database, (error) => events.error("checkpoints", error));
  const store = observedStore(patientStore(opened, { limitMs: 30_000 }), feed);
  // Other processes' writes (a CLI's cancel, another instance) wake followers too where the
  // store reports them (PostgreSQL LISTEN/NOTIFY, decision 0028); elsewhere followers poll.
  await connectFeed(store, feed);
  const evaluator = lazyEvaluator(() => Promise.resolve(repoData(root, store)));
  // Runs execute on a thread of their own: the store's syncs and the steps' spawns there never
  // hold up this thread, which answers the API.
  // The run thread reaches the hub (made below, on this thread) through a port of its own.
  const hubChannel = new MessageChannel();
  // Workers' capability calls (placed extension steps) go to the run thread's grants.
  const capabilityChannel = new MessageChannel();
  const runThread = startRunThread(root, instance, feed, {
    runStarted: (runId) => events.runStarted(runId),
    runSettled: (runId, error) => events.runSettled(runId, error),
    failed: (error) => events.error("run thread", error),
    error: (where, error) => events.error(where, error),
  }, {
    port: hubChannel.port2,
    passEnv: passEnvOf(options.passEnv ?? []),
    capabilities: capabilityChannel.port2,
  }, options.runsNice ?? defaultRunsNice);

  let loaded: Promise<ExecutorRegistry> | undefined;
  const env: RunServiceEnv = {
    locator,
    openStore: () => Promise.resolve(store),
    // With the remote executor on the hub itself, so reconciling can reap a remote step.
    executors: () =>
      loaded ??= executors({ repoRoot: root }).then((map) => withHubExecutor(map, hub)),
    expressions: () => evaluator,
    extensions: extensionInspector(),
    // New runs are created on the run thread, which writes all of them; the run outlives the call.
    startRun: (spec) => runThread.start(spec),
    // Resolves once the run is handed to the run thread; the run outlives the call.
    launchSupervisor: (_root, runId, options) => {
      runThread.supervise(runId, options?.resumeInputs);
      return Promise.resolve();
    },
    clock: systemClock,
    ids: randomIds,
    changes: feed,
    followPollMs: followPollOverride(),
  };
  const runs = localRunService(env);
  const timer: GateTimer = startGateTimer(env, store, {
    everyMs: 1000,
    onError: (error) => events.error("gate timer", error),
  });
  let peers: () => InstanceInfo[] = () => [];
  // Workers attach here, on the thread that answers the API: the hub is all in memory and
  // its work per message is small, so it never waits behind the run thread's disk syncs.
  const hub = new WorkerHub({
    tokens: store,
    leases: store,
    clock: systemClock,
    graceMs: options.workerGraceMs,
    onEvent: (event) => events.worker(event),
    // On a shared store, a dead instance's worker that reconnects here keeps its steps (0027).
    mayAdopt: store.instances
      ? (runId) => mayAdoptFor(store, store.instances!, instance, runId)
      : undefined,
    recorded: store.instances
      ? (runId, stepId, leaseId) => stepRecorded(store, runId, stepId, leaseId)
      : undefined,
    // Bound late: the instance's life starts after the hub (it asks the hub what it holds).
    elsewhere: store.instances
      ? (placement, here) => elsewhereReason(peers(), placement, here)
      : undefined,
  });
  const bridge = serveHubBridge(hub, hubChannel.port1);
  const roster = await publishRoster(root, hub);
  // A cancel or a decision pokes the owner's pid with SIGUSR1: here that is this process.
  const onPoke = () => runThread.poke();
  Deno.addSignalListener("SIGUSR1", onPoke);
  // On a store several instances share: register, heartbeat, take over the dead's runs (0027).
  let draining = false;
  const life: InstanceLife | undefined = store.instances
    ? await liveInstance(
      store,
      store.instances,
      instance,
      (runId, from, released) => {
        // A draining instance takes nothing more on: the others take it.
        if (!draining) runThread.supervise(runId, undefined, { from, released });
      },
      {
        lapsed: (from, runs) => events.takeover?.(from, runs),
        error: (where, error) => events.error(where, error),
      },
      () => hub.adoptableRuns(),
      () => hub.peerWorkers(),
    )
    : undefined;
  if (life) peers = () => life.peers();

  return {
    instance,
    store,
    hub,
    services: [
      { service: RunService, impl: runs },
      // Every call carries a step's credential, checked on the run thread (capability_bridge.ts).
      { service: CapabilityService, impl: bridgedCapabilityService(capabilityChannel.port1) },
      { service: RepoService, impl: localRepoService(locator, randomIds) },
      { service: AuthService, impl: localAuthService(() => Promise.resolve(store), systemClock) },
      {
        service: WorkerService,
        impl: localWorkerService(() => Promise.resolve(store), systemClock, {
          hub,
          roster: hubRoster(hub),
        }),
      },
      {
        service: DataService,
        impl: localDataService(
          () => Promise.resolve(withRuntimeModels(store, () => hubRoster(hub).list())),
          () => evaluator,
        ),
      },
    ],
    owned: () => runThread.owned(),
    async reconcileOnStart() {
      const result = await runs.reconcileRuns({}, {
        principal: systemPrincipal,
        signal: new AbortController().signal,
      });
      await timer.sweep();
      return result.changes.length;
    },
    async drain(ms, endStreams) {
      draining = true;
      const handOver = life !== undefined && runThread.owned().length > 0 &&
        await life.othersAlive().catch(() => false);
      if (handOver) {
        hub.stopPlacing();
        runThread.release();
      }
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        runThread.idle().then(() => false),
        new Promise<boolean>((resolve) => timeout = setTimeout(() => resolve(true), ms)),
      ]);
      clearTimeout(timeout);
      const cancelled = late ? runThread.owned() : [];
      // Runs still going are cancelled as a supervisor asked to stop cancels them: durably,
      // with their processes confirmed gone (on workers too: their streams are still open),
      // so nothing is left half-owned.
      await runThread.stop();
      const handed = runThread.released();
      if (!life || handed.length === 0) {
        await endStreams();
        return { cancelled, handedOver: [] };
      }
      // Released: the others take the runs at once; the workers, cut off now, reconnect to
      // one of them with the steps they run, which the claim adopts.
      await life.release();
      // Its timer would count the workers' leases lost once their grace passed: they are not.
      hub.close();
      await endStreams();
      const owners = await newOwners(store, instance, handed, claimWaitMs);
      return {
        cancelled,
        handedOver: handed.map((runId) => {
          const to = owners.get(runId);
          return to && to !== instance ? { runId, to } : { runId };
        }),
      };
    },
    async close() {
      await life?.stop();
      timer.stop();
      bridge.stop();
      hub.close();
      await roster.stop();
      Deno.removeSignalListener("SIGUSR1", onPoke);
      await evaluator.close().catch(() => {});
      await store.close().catch(() => {});
      await checkpoints?.stop();
    },
  };
}
