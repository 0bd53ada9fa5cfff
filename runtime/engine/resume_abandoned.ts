import { clone, create } from "@bufbuild/protobuf";
import {
  JobStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { ApprovalGateSchema, type Run, type Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { stepDraft } from "../run/gates.ts";
import type { EventDraft } from "../run/journal.ts";
import { JobStatus, StepStatus } from "../run/status.ts";
import { guarded } from "./conditions.ts";
import { waitingFor } from "./gate_steps.ts";
import { templateIdOf } from "./scheduler.ts";

// The new attempt of an abandoned run, as the events that set it up. The
// owner died without saying how its steps ended, so only outcomes that were
// recorded as final are kept: what succeeded, what a guard skipped, what a
// person decided. Everything else runs again; a gate that was waiting waits
// again, as it was.

export const abandonedReason = "resumed after abandonment";

/**
 * Sends every step of an abandoned run that has no kept outcome back to
 * pending, and the jobs they are in; `reentered` (a `--from`) goes back too,
 * kept or not. The processes the steps recorded must have been confirmed
 * gone before this is written.
 */
export function abandonedDrafts(
  run: Run,
  actor: string,
  reentered: ReadonlySet<string> = new Set(),
): EventDraft[] {
  if (run.cancelTimeline.some((stage) => stage.stage === "requested")) {
    // A new attempt would carry the old request out at once: say so instead.
    throw new SwampError(
      ErrorCode.RUN_TERMINAL,
      `run ${run.id} was abandoned while it was being cancelled, so it is not resumed`,
      { hint: "start a new run with `swamp workflow run`" },
    );
  }
  const byId = new Map(run.steps.map((step) => [step.id, step]));
  const kept = (step: Step): boolean => {
    if (reentered.has(step.id)) return false;
    const top = byId.get(templateIdOf(step));
    // A forEach step that succeeded keeps all its items, whatever each did.
    if (top && top !== step && hasOutcome(top)) return true;
    return hasOutcome(step);
  };
  const drafts: EventDraft[] = [];
  const touched = new Set<string>();
  for (const step of run.steps) {
    if (kept(step)) continue;
    touched.add(step.job);
    if (step.status !== StepStatus.PENDING) {
      drafts.push(backToPending(step, actor, reentered.has(step.id)));
    }
    if (wasWaiting(step) && !reentered.has(step.id)) drafts.push(...waitAgain(step, actor));
  }
  for (const job of run.jobs) {
    if (!touched.has(job.name) && job.status !== JobStatus.ABANDONED) continue;
    if (job.status === JobStatus.PENDING) continue;
    drafts.push(jobBackToPending(job, actor, abandonedReason));
  }
  return drafts;
}

/** A job of a resumed run made pending again, so the engine runs what it still has to. */
export function jobBackToPending(
  job: { name: string; status: JobStatus },
  actor: string,
  reason: string,
): EventDraft {
  return {
    actor,
    reason,
    payload: {
      case: "jobStatusChanged",
      value: create(JobStatusChangedSchema, {
        job: job.name,
        from: job.status,
        to: JobStatus.PENDING,
      }),
    },
  };
}

/** A final outcome the dead owner recorded: succeeded, skipped by its guard, or a decided gate. */
function hasOutcome(step: Step): boolean {
  if (step.status === StepStatus.SUCCEEDED) return true;
  if (step.status === StepStatus.SKIPPED && step.reason === guarded) return true;
  // Approved or rejected, a decision is written with the gate's end in one write.
  return step.approval?.decision !== undefined;
}

/** A gate that was waiting for a decision when its run was abandoned. */
function wasWaiting(step: Step): boolean {
  return step.approval !== undefined && step.approval.decision === undefined &&
    (step.status === StepStatus.ABANDONED || step.status === StepStatus.WAITING_APPROVAL);
}

/**
 * The step forgets its last attempt. A `workflow` step keeps its nested run,
 * which is resumed with it rather than started over (unless `--from` re-enters it).
 */
function backToPending(step: Step, actor: string, reentered: boolean): EventDraft {
  if (reentered || !step.childRunId) {
    return stepDraft(step.id, step.status, StepStatus.PENDING, abandonedReason, actor);
  }
  return {
    actor,
    reason: abandonedReason,
    payload: {
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, {
        stepId: step.id,
        from: step.status,
        to: StepStatus.PENDING,
        childRunId: step.childRunId,
      }),
    },
  };
}

/** The gate waits again with what it showed before: prompt, approvers, expiry. */
function waitAgain(step: Step, actor: string): EventDraft[] {
  return [
    {
      actor,
      reason: "waiting for approval",
      payload: {
        case: "stepStatusChanged",
        value: create(StepStatusChangedSchema, {
          stepId: step.id,
          from: StepStatus.PENDING,
          to: StepStatus.WAITING_APPROVAL,
          approval: clone(ApprovalGateSchema, step.approval!),
        }),
      },
    },
    waitingFor(step.id, step.id),
  ];
}
