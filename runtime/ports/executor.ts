import type * as z from "zod/mini";

/**
 * Executors run one step's work somewhere (a local process group, a
 * container, a remote worker) and report what happens as a stream of
 * events. Every implementation, built in or an extension's module, passes
 * the executor contract (cli/executor_contract/, run by our tests and by
 * `swamp executor test`) unchanged; what it can do is declared in
 * `features`, which the contract suite reads. Extension authors import the
 * types from runtime/executor_api.ts (docs/guides/executor-plugins.md).
 */
export interface Executor {
  /**
   * The version of this interface the executor was written for. A registry
   * refuses a version this build does not support (supportedExecutorApiVersions)
   * with executor_api_unsupported, rather than calling into a shape it does not know.
   */
  readonly apiVersion: number;
  /** What a workflow's `executor: {type: NAME}` names it by: lowercase letters, digits, `-`. */
  readonly name: string;
  readonly features: ExecutorFeatures;
  /**
   * It places steps on remote workers (the worker hub's executor): a step with
   * `target`/`labels` runs through it. At most one registered executor does.
   */
  readonly placesSteps?: boolean;
  /**
   * The `executor:` block that selects this executor in a workflow file, if
   * one can (the remote executor is chosen by placement instead).
   */
  readonly settings?: ExecutorSettings;
  /**
   * A worker can offer it (`swamp worker connect --executor NAME`): its work
   * fits what an assignment carries (command, env, container, limits,
   * labels), so a placed step may run with it. Others run only where the
   * orchestrator is, and a placed step that names one is refused.
   */
  readonly runsOnWorkers?: boolean;

  /**
   * Starts the step and yields its events until it has ended. The last event
   * is always `exited`. Aborting `signal` cancels the step: the executor stops
   * it (interrupt, then terminate, then kill, each after `graceMs`), confirms
   * nothing of it is left running, yields a `cancelStage` event per stage,
   * and ends with `exited` whose `cancelled` is true.
   */
  dispatch(step: StepWork, signal: AbortSignal): AsyncIterable<StepEvent>;

  /**
   * Ends whatever is left of a step started by an earlier process (found in a
   * run record whose owner is gone). Must never touch a process that merely
   * reuses the recorded pid: compare the recorded start time. Returns a line
   * per action taken, for the reconcile report.
   */
  reap(process: RecordedProcess): Promise<string[]>;

  /**
   * Ends whatever this executor still has of a run, found by what it marked
   * it with (container labels), for the case where the owner died before it
   * could record what it started. Returns a line per action taken.
   */
  reapRun?(runId: string): Promise<string[]>;

  /**
   * Whether nothing is left of a step started by an earlier process, by the
   * same rules as `reap` (a process that merely reuses the recorded pid is
   * not the step's). Asked before a step of an abandoned run is started
   * again; an executor without it cannot say, and the step is not started.
   */
  confirmGone?(process: RecordedProcess): Promise<GoneCheck>;
}

/** What `confirmGone` found: `detail` says what was looked at, or what is still there and why. */
export interface GoneCheck {
  gone: boolean;
  detail: string;
}

/**
 * The executor a worker runs a placed step with when the assignment names
 * none: a default of the worker protocol (an empty executor field on the
 * wire), not a choice of the runtime's.
 */
export const defaultWorkerExecutor = "loopback";

/** The Executor interface version this build implements. */
export const EXECUTOR_API_VERSION = 1;

/** The executor interface versions this build can run. */
export const supportedExecutorApiVersions: readonly number[] = [1];

export interface ExecutorFeatures {
  streamsLogs: boolean;
  canCancel: boolean;
  resourceLimits: boolean;
}

/** What to run, fully resolved: no expressions left. */
export interface StepWork {
  runId: string;
  stepId: string;
  /** A shell script run by `sh -c`, or an argv list run directly. */
  command: { script: string } | { argv: string[] };
  /** The complete environment of the step (the executor adds nothing but what it must, like PATH if absent). */
  env: Record<string, string>;
  cwd?: string;
  /** Ends the step as failed, the same way as a cancel, after this long. */
  timeoutMs?: number;
  /** Between the stages of a stop (interrupt → terminate → kill). */
  graceMs: number;
  /** Stdout kept as the step's output, at most this many bytes (the log gets all of it). */
  outputLimitBytes: number;
  /** Resource limits, for executors whose features include resourceLimits. */
  limits?: { memoryBytes?: number; cpus?: number };
  /** Where and how a container runs it, for container executors. */
  container?: ContainerSpec;
  /** Names for what the step starts (container labels): run, attempt, workflow, job, step, item. */
  labels?: Record<string, string>;
  /**
   * Where a step runs, for executors that place steps on workers (remote):
   * a worker's name or id, labels it must carry, the executor it must offer
   * and run the step with (default loopback), and how long the step may
   * wait for one before it fails with queue_timeout. Others ignore it.
   */
  placement?: {
    target?: string;
    labels?: Record<string, string>;
    executor?: string;
    queueTimeoutMs?: number;
  };
  /** The step's attempt (1 when absent); a re-dispatch of a lost worker's step adds one. */
  attempt?: number;
  /**
   * For executors that place steps on workers: a step taken over from a dead
   * owner instance still runs under this lease; follow it instead of
   * dispatching anew (decision 0027). Others ignore it.
   */
  adoptLease?: string;
  /**
   * Where a local executor that can has the step write its stdout and stderr
   * straight into files, `<dir>/<name>.out` and `<dir>/<name>.err`, which it
   * follows (decision 0024): what the step wrote survives its supervisor.
   * Executors that cannot (containers, workers) ignore it.
   */
  spool?: { dir: string; name: string };
  /**
   * A placed step that runs a method of an extension model type: the worker
   * runs it in its own sandbox from the bundle with this fingerprint (fetched
   * through the capability service, cached by fingerprint), not `command`.
   * Only the remote executor carries it; a local step's command is the method.
   */
  extension?: { fingerprint: string; module: string; memoryMb: number };
}

export interface ContainerSpec {
  image?: string;
  /** The program a script runs with, instead of `/bin/sh -c`. */
  shell?: string[];
  /** Working directory inside the container (default: the step's cwd, mounted at the same path). */
  workdir?: string;
  /** `host:container[:ro|rw]`, read-only unless `rw` is given. */
  volumes?: string[];
  user?: string;
  /** `none` (default) or `host`. */
  network?: string;
  /** `never` (default) or `if-missing`. */
  pull?: "never" | "if-missing";
  /** The engine's socket (default from DOCKER_HOST, else /var/run/docker.sock). */
  socket?: string;
}

export type StepEvent =
  /**
   * No worker can take the step yet, and why (placing executors only: the
   * others never emit it). It may come several times, before `placed`.
   */
  | { type: "queued"; reason: string }
  /**
   * A worker took the step under a lease (placing executors only). The epoch
   * is a number here (step events are plain JSON); the lease id carries it too.
   */
  | { type: "placed"; worker: string; leaseId: string; epoch: number; attempt: number }
  /**
   * The step's worker was lost before the step wrote anything: it is sent
   * again as `attempt` (a new lease, a higher epoch), for `reason`.
   */
  | { type: "redispatched"; attempt: number; reason: string }
  | { type: "started"; process: RecordedProcess }
  | {
    type: "output";
    stream: "stdout" | "stderr";
    line: string;
    /** For a line read from the step's spool file: the byte offset just past it there. */
    spoolOffset?: number;
  }
  | { type: "cancelStage"; stage: CancelStageName; detail: string }
  | {
    type: "exited";
    exitCode: number;
    /** The signal that ended it, if one did. */
    signal?: string;
    cancelled: boolean;
    timedOut: boolean;
    /** Stdout up to outputLimitBytes. */
    stdout: string;
    stdoutTruncated: boolean;
    /** Set when the executor could not run the step at all (spawn failed). */
    error?: string;
    /** The error code for `error`, when it has one of the closed list (e.g. "image_missing"). */
    errorCode?: string;
    /** The step was killed for exceeding its memory limit. */
    outOfMemory?: boolean;
  };

export type CancelStageName = "interrupted" | "terminated" | "killed" | "confirmed";

/** Enough to find a step's processes again, and to tell them from a reused pid. */
export interface RecordedProcess {
  executor: string;
  pid: number;
  /** Process group (the step runs as its own session). */
  pgid: number;
  /** The OS's start time of the process, e.g. /proc/<pid>/stat field 22. */
  processStart: string;
  containerId?: string;
  /** For a step run on a remote worker: the worker's id and the lease it ran under. */
  workerId?: string;
  leaseId?: string;
}

/**
 * The `executor:` block an executor accepts in workflow files, and what it
 * makes of one. The runtime knows no executor's settings: it checks a block
 * against the schema of the executor its `type` names (`workflow validate`)
 * and lets that executor turn it into the step's environment and work.
 */
export interface ExecutorSettings {
  /** A strict object schema whose `type` is the executor's name as a literal. */
  readonly schema: z.ZodMiniType;
  /** The step's environment and work under this block; the block is checked first. */
  prepare(config: unknown, step: StepContext): StepSetup;
}

/** What an executor may build a step's setup from. */
export interface StepContext {
  /** The step's identity variables (DESIGN §9): every executor passes them on. */
  identity: Record<string, string>;
  /** This host's environment as a local process would inherit it. */
  hostEnv: Record<string, string>;
  /** Names for what the step starts: run, attempt, workflow, job, step, item. */
  labels: Record<string, string>;
}

export interface StepSetup {
  /** The environment the step starts from, before command/shell's own `env`. */
  env: Record<string, string>;
  /** Adds what the executor needs to the work. */
  complete(work: StepWork): StepWork;
}

/**
 * Settings from a typed schema: `prepare` sees the block as the schema
 * parsed it. A block that no longer fits (the file changed after the run was
 * checked) throws the schema's error.
 */
export function defineExecutorSettings<Config>(
  schema: z.ZodMiniType<Config>,
  prepare: (config: Config, step: StepContext) => StepSetup,
): ExecutorSettings {
  return { schema, prepare: (config, step) => prepare(schema.parse(config), step) };
}
