import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CancelRequestedSchema, HeartbeatSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { type Run, Trigger } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { bootId, hostName, processStartTime } from "../host/mod.ts";
import { claimRun, type OwnerIdentity } from "../run/claim.ts";
import { createRun, type NewRun } from "../run/create.ts";
import { RunJournal } from "../run/journal.ts";
import { isTerminalRun, RunStatus } from "../run/status.ts";
import { resumeDrafts } from "./resume.ts";
import { pendingGates } from "../run/gates.ts";
import { sha256Hex } from "../text/hash.ts";
import { WorkflowCatalog } from "../workflow/catalog.ts";
import type { Workflow } from "../workflow/schema.ts";
import { checkShape } from "../workflow/quick_check.ts";
import { resolveInputs, runInputs } from "../run/inputs.ts";
import type { ChildRunRequest, EngineDeps } from "./deps.ts";
import { RunEngine } from "./engine.ts";
import { runChange } from "./cancellation.ts";
import { MissedHeartbeats } from "./warnings.ts";
import { removeRunSpool } from "./step_spool.ts";
import {
  endOrphans,
  type Takeover,
  type TakeoverPlan,
  takeoverPlan,
  takeoverReason,
} from "./takeover.ts";

export interface SupervisorOptions {
  heartbeatMs: number;
  /** Called with a function that makes every engine of this run look at its log now. */
  onPoke?: (poke: () => void) => void;
  /** Aborting it cancels the run (as a cancel request from `system`). */
  signal?: AbortSignal;
  /** Inputs given to a resume: they win over the run's own, and are not recorded. */
  resumeInputs?: Record<string, unknown>;
  /**
   * The id of the `swamp serve` instance this runs in, recorded as part of
   * the owner: one server process owns many runs under one pid.
   */
  serverInstance?: string;
  /** The run is taken over from a dead server instance on a shared store (decision 0027). */
  takeover?: Takeover;
  /**
   * Aborting it hands the run over (decision 0030): nothing new starts, and
   * once no step runs on this host the supervisor returns the run still
   * running, its steps on workers left for the next owner to adopt.
   */
  handover?: AbortSignal;
  /** Called once the run is claimed, before its engine starts. */
  onClaimed?: () => void;
}

/**
 * Owns one run in this process until it is settled: claims it (only if no
 * live owner with another identity holds it), heartbeats, runs the engine,
 * and runs nested workflows inline as runs of their own. Returns the final
 * record. Throws OwnershipLost, having written nothing more, when another
 * process claimed the run meanwhile.
 */
export async function superviseRun(
  deps: EngineDeps,
  runId: string,
  options: SupervisorOptions,
): Promise<Run> {
  const journal = await RunJournal.open(deps.store, runId, deps.clock, "system");
  return await claimAndRun(deps, journal, options);
}

/**
 * Creates a run and owns it as superviseRun does, without reading back what
 * it wrote. `onCreated` sees the record as created (pending, unowned) before
 * anything more is written; what it keeps it must copy, since the journal
 * then folds into that record in place (as into every snapshot it writes).
 */
export async function createAndSuperviseRun(
  deps: EngineDeps,
  spec: NewRun,
  options: SupervisorOptions & { onCreated(run: Run): void },
): Promise<Run> {
  const created = await createRun(deps.store, deps.clock, deps.ids, spec);
  options.onCreated(created);
  const journal = new RunJournal(deps.store, created, deps.clock, "system");
  return await claimAndRun(deps, journal, options);
}

async function claimAndRun(
  deps: EngineDeps,
  journal: RunJournal,
  options: SupervisorOptions,
): Promise<Run> {
  const owner = await ownerIdentity(options.serverInstance);
  // A new run starts running in the claim's own write: one append (and flush) less per run.
  const start = (run: Run) =>
    run.status === RunStatus.PENDING ? [runChange(RunStatus.PENDING, RunStatus.RUNNING, "")] : [];
  const takeover = options.takeover;
  if (!takeover) {
    if (!await claimRun(journal, owner, deps.clock, "supervisor started", start)) {
      throw new SwampError(
        ErrorCode.RUN_STATE,
        `run ${journal.run.id} is already owned or finished`,
      );
    }
    options.onClaimed?.();
    return await runOwned(deps, journal, options, owner);
  }
  // A takeover: the claim's write also settles what the dead instance left running.
  const leases = await deps.store.listLeases({ runId: journal.run.id });
  const deadHost = journal.run.owner?.host;
  let plan: TakeoverPlan | undefined;
  const settle = (run: Run) => {
    plan = takeoverPlan(run, leases, takeover.from);
    return [...start(run), ...plan.drafts];
  };
  const reason = takeoverReason(takeover);
  if (!await claimRun(journal, owner, deps.clock, reason, settle)) {
    throw new SwampError(
      ErrorCode.RUN_STATE,
      `run ${journal.run.id} was taken over by another instance, or is finished`,
    );
  }
  options.onClaimed?.();
  // Its local processes ran on the dead instance's host: ended here only if that is this host.
  if (plan && plan.orphans.length > 0 && deadHost === owner.host) {
    await endOrphans(plan.orphans, deps.executors);
  }
  const adopted = plan && plan.adopt.size > 0 ? { ...deps, adoptLeases: plan.adopt } : deps;
  return await runOwned(adopted, journal, options, owner);
}

async function runOwned(
  deps: EngineDeps,
  journal: RunJournal,
  options: SupervisorOptions,
  owner: OwnerIdentity,
): Promise<Run> {
  const controller = new AbortController();
  const onOuterAbort = async () => {
    await journal.append({
      reason: "the supervisor was asked to stop",
      payload: {
        case: "cancelRequested",
        value: create(CancelRequestedSchema, { requestedBy: "system" }),
      },
    }).catch(() => {});
    controller.abort();
  };
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const missed = new MissedHeartbeats();
  const heartbeat = setInterval(() => {
    journal.append({
      payload: {
        case: "heartbeat",
        value: create(HeartbeatSchema, { time: timestampFromDate(deps.clock.now()) }),
      },
    }).then(() => missed.report(journal), (error) => missed.failed(error));
  }, options.heartbeatMs);
  try {
    const engines = new Set<RunEngine>();
    const workflow = pinnedWorkflow(journal.run);
    const inputs = {
      ...runInputs(journal.run),
      ...options.resumeInputs,
    };
    const childDeps: EngineDeps = {
      ...deps,
      runChild: (request, signal) => runChild(deps, childDeps, request, signal, owner, engines),
    };
    const engine = new RunEngine(childDeps, journal, workflow, inputs);
    engines.add(engine);
    options.onPoke?.(() => engines.forEach((e) => e.poke()));
    // Only the run itself is handed over: a nested workflow runs on as one of its local steps.
    const handOver = () => engine.release();
    if (options.handover?.aborted) handOver();
    options.handover?.addEventListener("abort", handOver, { once: true });
    try {
      return await engine.execute(controller.signal);
    } finally {
      options.handover?.removeEventListener("abort", handOver);
    }
  } finally {
    await removeRunSpool(deps.store, journal.run.id);
    clearInterval(heartbeat);
    await missed.report(journal);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

async function runChild(
  deps: EngineDeps,
  childDeps: EngineDeps,
  request: ChildRunRequest,
  signal: AbortSignal,
  owner: OwnerIdentity,
  engines: Set<RunEngine>,
): Promise<Run> {
  if (request.resumeRunId) {
    const resumed = await resumeChild(childDeps, request.resumeRunId, owner, engines, signal);
    if (resumed) return resumed;
  }
  const catalog = await WorkflowCatalog.load(deps.repoRoot);
  const entry = catalog.find(request.workflow);
  const parsed = entry.shape;
  if (!parsed.success) {
    throw new SwampError(
      ErrorCode.INVALID_WORKFLOW,
      `nested workflow ${request.workflow} is not valid; run \`swamp workflow validate ${request.workflow}\``,
    );
  }
  const child = await createRun(deps.store, deps.clock, deps.ids, {
    workflow: parsed.data,
    workflowFile: entry.file,
    workflowHash: await sha256Hex(entry.source.text),
    inputs: resolveInputs(parsed.data.inputs, request.inputs),
    actor: request.parent.actor,
    actorKind: request.parent.actorKind,
    trigger: Trigger.MANUAL,
    parentRunId: request.parent.id,
    parentStepId: request.parentStepId,
  });
  await request.onCreated?.(child.id);
  const journal = new RunJournal(deps.store, child, deps.clock, "system");
  await claimChild(journal, owner, deps, `nested run of ${request.parentStepId}`);
  return await executeChild(childDeps, journal, parsed.data, engines, signal);
}

/**
 * Resumes the nested run a `workflow` step started, as part of its parent's
 * resume: one that waited, or one abandoned with its parent (whose processes
 * the resume confirmed gone). One that ended otherwise, or whose gates still
 * wait, is returned as it is, and the step takes that outcome.
 */
async function resumeChild(
  deps: EngineDeps,
  childRunId: string,
  owner: OwnerIdentity,
  engines: Set<RunEngine>,
  signal: AbortSignal,
): Promise<Run | undefined> {
  const journal = await RunJournal.open(deps.store, childRunId, deps.clock, "system");
  const status = journal.run.status;
  if (isTerminalRun(status) && status !== RunStatus.ABANDONED) return journal.run;
  if (status === RunStatus.SUSPENDED && pendingGates(journal.run).length > 0) return journal.run;
  const workflow = pinnedWorkflow(journal.run);
  await journal.write((run) => {
    if (run.status !== RunStatus.SUSPENDED && run.status !== RunStatus.ABANDONED) return undefined;
    return resumeDrafts(run, workflow, {
      actor: "system",
      inputKeys: [],
      fromStep: "",
      now: deps.clock.now(),
    });
  });
  await claimChild(journal, owner, deps, "resumed with its parent");
  return await executeChild(deps, journal, workflow, engines, signal);
}

/** A nested run is owned by its parent's owner, claimed like any run. */
async function claimChild(
  journal: RunJournal,
  owner: OwnerIdentity,
  deps: EngineDeps,
  reason: string,
): Promise<void> {
  if (!await claimRun(journal, owner, deps.clock, reason)) {
    throw new SwampError(
      ErrorCode.RUN_STATE,
      `nested run ${journal.run.id} is owned by another live process or already ended`,
    );
  }
}

async function executeChild(
  deps: EngineDeps,
  journal: RunJournal,
  workflow: Workflow,
  engines: Set<RunEngine>,
  signal: AbortSignal,
): Promise<Run> {
  const engine = new RunEngine(
    deps,
    journal,
    workflow,
    runInputs(journal.run),
  );
  engines.add(engine);
  try {
    return await engine.execute(signal);
  } finally {
    engines.delete(engine);
  }
}

/** The workflow definition the run pinned when it was created. */
export function pinnedWorkflow(run: Run): Workflow {
  const parsed = checkShape(run.definition as JsonObject | undefined);
  if (!parsed.success) {
    throw new SwampError(ErrorCode.INTERNAL, `run ${run.id} has no usable pinned definition`);
  }
  return parsed.data;
}

/** This process's start time: read once, it never changes. */
let ownStart: Promise<string | undefined> | undefined;

async function ownerIdentity(serverInstance = ""): Promise<OwnerIdentity> {
  return {
    host: hostName(),
    bootId: await bootId(),
    pid: Deno.pid,
    processStart: (await (ownStart ??= processStartTime(Deno.pid))) ?? "",
    server: serverInstance,
  };
}
