import { create } from "@bufbuild/protobuf";
import { StepStatusChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { ActorKind, Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { pendingError, resumeDrafts } from "../engine/resume.ts";
import { pinnedWorkflow } from "../engine/supervisor.ts";
import type { RunStore } from "../ports/store.ts";
import {
  checkDecider,
  decisionDrafts,
  expiredGates,
  expiryDrafts,
  failAtOnce,
  findGate,
  hasWaitingStep,
  pendingGates,
} from "../run/gates.ts";
import { resolveInputs, runInputs } from "../run/inputs.ts";
import { RunJournal } from "../run/journal.ts";
import { importSpools } from "../run/spool.ts";
import { loadFoldedRun } from "../run/fold.ts";
import { pokeOwner } from "./owner_signal.ts";
import { RunStatus, StepStatus } from "../run/status.ts";
import type { RunServiceEnv } from "./run_env.ts";
import { startSupervisor } from "./supervisor_start.ts";

// The writes of approval gates that more than one request makes: a decision,
// a timeout taking effect on read, a nested run's failure reaching its parent,
// and the start of a resume.

export interface Decision {
  approved: boolean;
  actor: string;
  actorKind: ActorKind;
  reason: string;
}

/** Writes a decision on a waiting gate of `runId`; returns the record after it and the gate. */
export async function writeDecision(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  selector: string,
  decision: Decision,
): Promise<{ run: Run; gate: Step }> {
  const journal = await RunJournal.open(
    store,
    runId,
    env.clock,
    decision.actor,
    decision.actorKind,
  );
  let gate: Step | undefined;
  await journal.write((run) => {
    const now = env.clock.now();
    gate = findGate(run, selector);
    checkDecider(run, gate, decision.actor, now);
    return decisionDrafts(run, gate, { ...decision, time: now });
  });
  await failParents(env, store, journal.run);
  // The owner may still be finishing other branches: it should see this now.
  await pokeOwner(journal.run.owner);
  return { run: journal.run, gate: gate! };
}

/**
 * Applies the on-timeout action of every expired gate of a run (whoever reads
 * it, whether or not any process is alive). An approval that leaves nothing
 * waiting resumes the run, since that is what approving means. Returns
 * whether anything changed.
 */
export async function applyExpiredGates(
  env: RunServiceEnv,
  store: RunStore,
  run: Run,
): Promise<boolean> {
  if (expiredGates(run, env.clock.now()).length === 0) return false;
  const journal = await RunJournal.open(store, run.id, env.clock, "system");
  const written = await journal.write((fresh) => expiryDrafts(fresh, env.clock.now()));
  if (written.length === 0) return false;
  await failParents(env, store, journal.run);
  const approved = written.some((e) =>
    e.payload.case === "approvalDecided" && e.payload.value.decision?.approved
  );
  if (approved && journal.run.status === RunStatus.SUSPENDED && !hasWaitingStep(journal.run)) {
    const root = await rootRun(store, journal.run);
    try {
      if (!await treeHasPendingGates(store, root)) {
        await startResume(env, store, root, { actor: "system", inputs: {}, fromStep: "" });
      }
    } catch (error) {
      // Someone else resumed it first: that is the same outcome. A resume whose supervisor
      // died at its start is recorded on the run (abandoned), not an error of this read.
      const code = error instanceof SwampError ? error.code : undefined;
      if (code !== ErrorCode.RUN_STATE && code !== ErrorCode.RUN_ABANDONED) throw error;
    }
  }
  return true;
}

/** When a nested run failed while its parent was suspended on it, the parent fails at once too. */
async function failParents(env: RunServiceEnv, store: RunStore, child: Run): Promise<void> {
  if (child.status !== RunStatus.FAILED || !child.parentRunId) return;
  const journal = await RunJournal.open(store, child.parentRunId, env.clock, "system");
  await journal.write((parent) => {
    if (parent.status !== RunStatus.SUSPENDED) return undefined;
    const step = parent.steps.find((s) =>
      s.childRunId === child.id && s.status === StepStatus.WAITING_APPROVAL
    );
    if (!step) return undefined;
    const reason = `nested run ${child.id} failed: ${child.reason}`;
    return [
      {
        reason,
        payload: {
          case: "stepStatusChanged",
          value: create(StepStatusChangedSchema, {
            stepId: step.id,
            from: step.status,
            to: StepStatus.FAILED,
          }),
        },
      },
      ...failAtOnce(parent, step, reason, "system"),
    ];
  });
  await failParents(env, store, journal.run);
}

export interface ResumeOptions {
  actor: string;
  /** How the actor was identified (system when left out for `system`). */
  actorKind?: ActorKind;
  inputs: Record<string, unknown>;
  fromStep: string;
}

/**
 * Starts a new attempt of a run: one conditional write (so of two racing
 * resumes exactly one wins), then a supervisor to run it. Resume inputs go to
 * the supervisor only; the record keeps their names.
 */
export async function startResume(
  env: RunServiceEnv,
  store: RunStore,
  target: Run,
  options: ResumeOptions,
): Promise<Run> {
  const workflow = pinnedWorkflow(target);
  // Checked (and typed) now, so a wrong input is refused before anything changes.
  const resolved = resolveInputs(workflow.inputs, {
    ...runInputs(target),
    ...options.inputs,
  });
  const resumeInputs = Object.fromEntries(
    Object.keys(options.inputs).map((key) => [key, resolved[key]]),
  );
  // What the abandoned attempt's steps wrote and its reconciler did not store (it died
  // meanwhile) goes into the log before a new attempt writes there (decision 0024).
  if (target.status === RunStatus.ABANDONED) await importSpools(store, env.clock, target);
  const journal = await RunJournal.open(
    store,
    target.id,
    env.clock,
    options.actor,
    options.actorKind,
  );
  await journal.write((run) =>
    resumeDrafts(run, workflow, {
      actor: options.actor,
      inputKeys: Object.keys(options.inputs).sort(),
      fromStep: options.fromStep,
      now: env.clock.now(),
    })
  );
  await startSupervisor(env, store, target.id, { resumeInputs });
  return journal.run;
}

/** The top-level run a nested run belongs to. */
export async function rootRun(store: RunStore, run: Run): Promise<Run> {
  let current = run;
  for (let depth = 0; current.parentRunId && depth < 32; depth++) {
    const parent = await loadFoldedRun(store, current.parentRunId);
    if (!parent) break;
    current = parent;
  }
  return current;
}

/** Refuses when a gate in `run` or in a nested run it waits on still waits; returns normally otherwise. */
export async function checkNoPendingGates(store: RunStore, run: Run): Promise<void> {
  const gates = pendingGates(run);
  if (gates.length > 0) throw pendingError(run, gates);
  for (const step of run.steps) {
    if (step.status !== StepStatus.WAITING_APPROVAL || !step.childRunId) continue;
    const child = await loadFoldedRun(store, step.childRunId);
    if (child) await checkNoPendingGates(store, child);
  }
}

async function treeHasPendingGates(store: RunStore, run: Run): Promise<boolean> {
  try {
    await checkNoPendingGates(store, run);
    return false;
  } catch (error) {
    if (error instanceof SwampError && error.code === ErrorCode.APPROVAL_PENDING) return true;
    throw error;
  }
}
