import type { AdoptedStep } from "./takeover.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { ModelCatalog } from "../model/catalog.ts";
import type { Clock } from "../ports/clock.ts";
import type { Executor } from "../ports/executor.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import type { IdSource } from "../ports/ids.ts";
import type { StepSlots } from "../ports/step_slots.ts";
import type { RunStore } from "../ports/store.ts";
import type { SecretSource } from "../ports/vault.ts";
import type { RunMasks } from "./run_masks.ts";
import type { ExtensionMethodRunner } from "../ports/extension_methods.ts";

/** Everything an engine needs from outside: ports, the repository, and limits. */
export interface EngineDeps {
  store: RunStore;
  /** The default executor: the registry's choice for steps with no `executor:` block. */
  executor: Executor;
  /** Every registered executor by name, for steps that choose one with `executor:`. */
  executors?: ReadonlyMap<string, Executor>;
  /**
   * The server's environment variables passed to steps that run on remote
   * workers (`swamp serve --pass-env NAME`): an allowlist, never the whole
   * environment.
   */
  remoteEnv?: Readonly<Record<string, string>>;
  evaluator?: ExpressionEvaluator;
  /**
   * Where `vault.get` reads secrets, on this orchestrator (workers hold no
   * vault). Without it a step that calls `vault.get` fails (vault_not_found).
   */
  secrets?: SecretSource;
  /**
   * The masks of the runs this process executes, shared with whatever else
   * hands their steps secrets (the capability service); each engine makes
   * its own when absent.
   */
  masks?: RunMasks;
  /** Runs extension model methods; without it their steps fail with a clear reason. */
  extensionMethods?: ExtensionMethodRunner;
  clock: Clock;
  ids: IdSource;
  models: ModelCatalog;
  repoRoot: string;
  /** Steps running at once in this process, whatever the workflow says. */
  maxParallel: number;
  /** The host-wide ceiling every process step (local or in a container) takes a slot of. */
  hostSlots?: StepSlots;
  /** Between the stages of stopping a step. */
  graceMs: number;
  /** Stdout kept as a step's output. */
  outputLimitBytes: number;
  /** How often to look for outside changes (cancel requests, freed locks). */
  pollMs: number;
  /**
   * Steps taken over from a dead owner instance, by id: the lease their
   * worker still runs them under, followed once instead of a new dispatch (0027).
   */
  adoptLeases?: Map<string, AdoptedStep>;
  /** Runs a nested workflow to its end and returns the child's final record. */
  runChild?: (request: ChildRunRequest, signal: AbortSignal) => Promise<Run>;
  /** Reconciles the run holding a lock if its owner is gone; true when it was. */
  reapIfAbandoned?: (runId: string) => Promise<boolean>;
}

export interface ChildRunRequest {
  parent: Run;
  parentStepId: string;
  workflow: string;
  inputs: Record<string, unknown>;
  /** The nested run this step started before, to resume rather than start anew. */
  resumeRunId?: string;
  /** Called once the nested run exists, before it runs. */
  onCreated?: (childRunId: string) => Promise<void>;
}
