import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApprovalDecidedSchema,
  JobStatusChangedSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  ActorKind,
  type ApprovalDecision,
  ApprovalDecisionSchema,
  type Run,
  type Step,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { EventDraft } from "./journal.ts";
import { isActiveJob, isTerminalStep, JobStatus, RunStatus, StepStatus } from "./status.ts";

// Approval gates as decisions over a run's record: which gates wait, who may
// decide them, and the events a decision or an expiry writes. Pure, so the
// CLI, the API, a reader applying an expired timeout and the engine all
// decide the same way.

/** Gates waiting for a person: manual_approval steps in `waiting_approval`. */
export function pendingGates(run: Run): Step[] {
  return run.steps.filter((step) => step.status === StepStatus.WAITING_APPROVAL && step.approval);
}

/** Steps waiting on something a person must do, gates or nested runs that wait on gates. */
export function hasWaitingStep(run: Run): boolean {
  return run.steps.some((step) => step.status === StepStatus.WAITING_APPROVAL);
}

/** The gate `selector` names (a step id or name), or the only pending gate when it is empty. */
export function findGate(run: Run, selector: string): Step {
  const gates = pendingGates(run);
  const list = gates.map((g) => g.id).join(", ");
  if (selector === "") {
    if (gates.length === 1) return gates[0];
    const timedOut = run.steps.filter(tookTimeoutAction);
    if (gates.length === 0 && timedOut.length > 0) throw expiredError(run, timedOut.at(-1)!);
    if (gates.length === 0) {
      throw new SwampError(
        ErrorCode.RUN_STATE,
        `run ${run.id} has no gate waiting for a decision`,
        {
          hint: `see the run with \`swamp workflow status ${run.id.slice(0, 8)}\``,
        },
      );
    }
    throw new SwampError(
      ErrorCode.AMBIGUOUS,
      `run ${run.id} has ${gates.length} gates waiting: ${list}`,
      { hint: "name one with --step" },
    );
  }
  const named = run.steps.filter((step) => step.id === selector || step.name === selector);
  const waiting = named.filter((step) => gates.includes(step));
  if (waiting.length === 1) return waiting[0];
  if (waiting.length > 1) {
    throw new SwampError(
      ErrorCode.AMBIGUOUS,
      `\`${selector}\` names ${waiting.length} waiting gates: ${
        waiting.map((g) => g.id).join(", ")
      }`,
      { hint: "give the step id with --step" },
    );
  }
  if (named.length > 0 && tookTimeoutAction(named[0])) throw expiredError(run, named[0]);
  if (named.length > 0 && named[0].approval?.decision) {
    const d = named[0].approval.decision;
    throw new SwampError(
      ErrorCode.RUN_STATE,
      `gate ${named[0].id} was already ${d.approved ? "approved" : "rejected"} by ${d.actor}`,
    );
  }
  throw new SwampError(
    ErrorCode.NOT_FOUND,
    `run ${run.id} has no gate \`${selector}\` waiting for a decision`,
    { hint: gates.length > 0 ? `waiting gates: ${list}` : "no gate of this run is waiting" },
  );
}

/** When the gate expires, if it has a timeout. */
export function gateExpiry(gate: Step): Date | undefined {
  const expires = gate.approval?.expiresTime;
  return expires ? timestampDate(expires) : undefined;
}

/** Whether the gate was decided by its timeout rather than by a person. */
function tookTimeoutAction(step: Step): boolean {
  const decision = step.approval?.decision;
  const expiry = gateExpiry(step);
  return decision !== undefined && decision.actor === "system" && expiry !== undefined &&
    decision.time !== undefined && timestampDate(decision.time).getTime() >= expiry.getTime();
}

function expiredError(run: Run, gate: Step): SwampError {
  const approval = gate.approval!;
  const outcome = approval.decision
    ? `it was ${approval.decision.approved ? "approved" : "rejected"} by its on-timeout action`
    : `its on-timeout action (${approval.onTimeout || "reject"}) applies`;
  return new SwampError(
    ErrorCode.APPROVAL_EXPIRED,
    `gate ${gate.id} expired at ${
      gateExpiry(gate)!.toISOString()
    }; no decision can be taken any more`,
    { hint: `${outcome}; see \`swamp workflow status ${run.id.slice(0, 8)}\`` },
  );
}

/** Refuses a decision the gate does not allow: expired, or from someone not allowed to decide. */
export function checkDecider(run: Run, gate: Step, actor: string, now: Date): void {
  const approval = gate.approval!;
  const expiry = gateExpiry(gate);
  if (expiry && expiry.getTime() <= now.getTime()) throw expiredError(run, gate);
  if (approval.approvers.length > 0 && !approval.approvers.includes(actor)) {
    throw new SwampError(
      ErrorCode.NOT_APPROVER,
      `${actor} may not decide gate ${gate.id}; its approvers are ${approval.approvers.join(", ")}`,
      {
        hint: "ask one of them to decide; through a server, each decides with their own token",
      },
    );
  }
  if (approval.forbidRunActor && actor === run.actor) {
    throw new SwampError(
      ErrorCode.NOT_APPROVER,
      `${actor} started run ${run.id} and so may not decide its gate ${gate.id}`,
      { hint: "someone else must approve or reject it" },
    );
  }
}

/**
 * The events of a decision on a waiting gate. Approving ends the gate
 * succeeded; the run goes on when it is resumed (or at once, if its owner is
 * still finishing other branches). Rejecting fails the gate, and a suspended
 * run fails at once with everything not yet reached skipped.
 */
export function decisionDrafts(
  run: Run,
  gate: Step,
  decision: { approved: boolean; actor: string; actorKind?: ActorKind; reason: string; time: Date },
  decidedAlready: ReadonlySet<string> = new Set(),
): EventDraft[] {
  const recorded: ApprovalDecision = create(ApprovalDecisionSchema, {
    approved: decision.approved,
    actor: decision.actor,
    actorKind: decision.actorKind ?? ActorKind.SYSTEM,
    reason: decision.reason,
    time: timestampFromDate(decision.time),
  });
  const verb = decision.approved ? "approved" : "rejected";
  const why = `${verb} by ${decision.actor}${decision.reason ? `: ${decision.reason}` : ""}`;
  const drafts: EventDraft[] = [
    {
      actor: decision.actor,
      reason: decision.reason,
      payload: {
        case: "approvalDecided",
        value: create(ApprovalDecidedSchema, { stepId: gate.id, decision: recorded }),
      },
    },
    stepDraft(
      gate.id,
      StepStatus.WAITING_APPROVAL,
      decision.approved ? StepStatus.SUCCEEDED : StepStatus.FAILED,
      why,
      decision.actor,
    ),
  ];
  if (!decision.approved && run.status === RunStatus.SUSPENDED) {
    drafts.push(
      ...failAtOnce(run, gate, `gate ${gate.id} ${why}`, decision.actor, decidedAlready),
    );
  }
  return drafts;
}

/**
 * Ends a suspended run failed now: `failedStep` (already failed by the
 * caller) takes its job and its forEach step down with it; every other step
 * not yet ended is skipped, since nothing of the run will start again.
 */
export function failAtOnce(
  run: Run,
  failedStep: Step,
  reason: string,
  actor: string,
  decidedAlready: ReadonlySet<string> = new Set(),
): EventDraft[] {
  const drafts: EventDraft[] = [];
  for (const step of run.steps) {
    if (step.id === failedStep.id || isTerminalStep(step.status)) continue;
    if (decidedAlready.has(step.id)) continue;
    const to = step.id === failedStep.templateId ? StepStatus.FAILED : StepStatus.SKIPPED;
    drafts.push(stepDraft(step.id, step.status, to, `run failed: ${reason}`, actor));
  }
  for (const job of run.jobs) {
    if (!isActiveJob(job.status)) continue;
    const to = job.name === failedStep.job ? JobStatus.FAILED : JobStatus.SKIPPED;
    drafts.push({
      actor,
      reason: `run failed: ${reason}`,
      payload: {
        case: "jobStatusChanged",
        value: create(JobStatusChangedSchema, { job: job.name, from: job.status, to }),
      },
    });
  }
  drafts.push({
    actor,
    reason,
    payload: {
      case: "runStatusChanged",
      value: create(RunStatusChangedSchema, { from: run.status, to: RunStatus.FAILED }),
    },
  });
  return drafts;
}

/** Gates whose timeout has passed, as of `now`. */
export function expiredGates(run: Run, now: Date): Step[] {
  return pendingGates(run).filter((gate) => {
    const expiry = gateExpiry(gate);
    return expiry !== undefined && expiry.getTime() <= now.getTime();
  });
}

/**
 * The events that apply every expired gate's on-timeout action, decided by
 * `system`. Each gate is decided against the record as the earlier ones left
 * it, so a rejection that fails the run stops the rest.
 */
export function expiryDrafts(run: Run, now: Date): EventDraft[] {
  const drafts: EventDraft[] = [];
  const decided = new Set<string>();
  // Approvals first, so a rejection that fails the run leaves them as decided.
  const gates = expiredGates(run, now).sort((a, b) =>
    Number(b.approval!.onTimeout === "approve") - Number(a.approval!.onTimeout === "approve")
  );
  for (const gate of gates) {
    const approved = gate.approval!.onTimeout === "approve";
    drafts.push(...decisionDrafts(run, gate, {
      approved,
      actor: "system",
      reason: `timed out at ${gateExpiry(gate)!.toISOString()}`,
      time: now,
    }, decided));
    decided.add(gate.id);
    if (!approved && run.status === RunStatus.SUSPENDED) break;
  }
  return drafts;
}

/** A gate's expiry time from the moment it starts waiting. */
export function expiryFrom(start: Date, timeoutMs: number | undefined): Timestamp | undefined {
  return timeoutMs === undefined
    ? undefined
    : timestampFromDate(new Date(start.getTime() + timeoutMs));
}

/** One step status change, by `actor`, with the reason. */
export function stepDraft(
  stepId: string,
  from: StepStatus,
  to: StepStatus,
  reason: string,
  actor: string,
): EventDraft {
  return {
    actor,
    reason,
    payload: {
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, { stepId, from, to }),
    },
  };
}
