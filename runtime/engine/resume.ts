import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OwnerChangedSchema,
  RunResumedSchema,
  RunStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { OwnerSchema, type Run, type Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { pendingGates, stepDraft } from "../run/gates.ts";
import type { EventDraft } from "../run/journal.ts";
import { JobStatus, RunStatus, runStatusText, StepStatus } from "../run/status.ts";
import type { Workflow } from "../workflow/schema.ts";
import { templateIdOf } from "./scheduler.ts";
import { abandonedDrafts, abandonedReason, jobBackToPending } from "./resume_abandoned.ts";

// A resume as one conditional write: the checks and the events that start a
// new attempt (of an abandoned run: resume_abandoned.ts). Deciding it against
// the record the write is made on is what makes two racing resumes end with
// exactly one winner.

/** Marks steps and jobs that were never reached because the run failed at once. */
const notReached = "run failed: ";

export interface ResumeRequest {
  actor: string;
  inputKeys: string[];
  /** Step id or name to re-enter a failed run at. */
  fromStep: string;
  now: Date;
}

export function resumeDrafts(run: Run, workflow: Workflow, request: ResumeRequest): EventDraft[] {
  const drafts: EventDraft[] = [];
  const abandoned = run.status === RunStatus.ABANDONED;
  let fromStep = "";
  if (request.fromStep !== "") {
    if (run.status !== RunStatus.FAILED && !abandoned) {
      throw new SwampError(
        ErrorCode.RUN_STATE,
        `--from re-enters a failed or abandoned run; run ${run.id} is ${runStatusText(run.status)}`,
        {
          hint: run.status === RunStatus.SUSPENDED ? "resume it without --from" : undefined,
        },
      );
    }
    const target = entryStep(run, request.fromStep);
    fromStep = target.id;
    const reset = reentrySet(run, workflow, target);
    drafts.push(
      ...(abandoned
        ? abandonedDrafts(run, request.actor, reset)
        : reentryDrafts(run, reset, `re-entered at ${target.id}`, request.actor)),
    );
  } else if (run.status === RunStatus.SUSPENDED) {
    const gates = pendingGates(run);
    if (gates.length > 0) throw pendingError(run, gates);
    for (const step of run.steps) {
      // A `workflow` step whose nested run waited resumes that nested run.
      if (step.status === StepStatus.WAITING_APPROVAL) {
        drafts.push(stepDraft(step.id, step.status, StepStatus.PENDING, "resumed", request.actor));
      }
    }
  } else if (abandoned) {
    drafts.push(...abandonedDrafts(run, request.actor));
  } else {
    throw notResumable(run);
  }
  const resumed = abandoned ? abandonedReason : "resumed";
  // Going pending clears the run's waits: what a step waits on again is written after it.
  const waits = drafts.filter((d) => d.payload.case === "waitingChanged");
  return [
    {
      actor: request.actor,
      reason: fromStep ? `${resumed} from ${fromStep}` : resumed,
      payload: {
        case: "runResumed",
        value: create(RunResumedSchema, {
          attempt: Math.max(run.attempt, 1) + 1,
          inputKeys: request.inputKeys,
          fromStep,
        }),
      },
    },
    ...drafts.filter((d) => !waits.includes(d)),
    {
      actor: request.actor,
      reason: resumed,
      payload: {
        case: "runStatusChanged",
        value: create(RunStatusChangedSchema, { from: run.status, to: RunStatus.PENDING }),
      },
    },
    ...waits,
    {
      // No process owns it until its new supervisor claims it; the time says
      // since when, so a supervisor that never starts is found (DESIGN §6).
      actor: request.actor,
      payload: {
        case: "ownerChanged",
        value: create(OwnerChangedSchema, {
          owner: create(OwnerSchema, { heartbeatTime: timestampFromDate(request.now) }),
        }),
      },
    },
  ];
}

export function pendingError(run: Run, gates: Step[]): SwampError {
  const list = gates.map((g) => g.id).join(", ");
  return new SwampError(
    ErrorCode.APPROVAL_PENDING,
    `run ${run.id} still waits for approval of ${list}`,
    { hint: `decide first: swamp workflow approve ${run.id.slice(0, 8)} --step ${gates[0].id}` },
  );
}

function notResumable(run: Run): SwampError {
  switch (run.status) {
    case RunStatus.FAILED: {
      const failed = run.steps.filter((s) => s.status === StepStatus.FAILED && !s.templateId);
      return new SwampError(
        ErrorCode.RUN_STATE,
        `run ${run.id} failed; say where to re-enter it with --from`,
        { hint: `failed steps: ${failed.map((s) => s.id).join(", ") || "none"}` },
      );
    }
    case RunStatus.PENDING:
    case RunStatus.RUNNING:
    case RunStatus.CANCELLING:
      return new SwampError(
        ErrorCode.RUN_STATE,
        `run ${run.id} is ${runStatusText(run.status)}: it was resumed already or never stopped`,
        { hint: `follow it with \`swamp workflow status ${run.id.slice(0, 8)}\`` },
      );
    default:
      return new SwampError(
        ErrorCode.RUN_TERMINAL,
        `run ${run.id} ended ${runStatusText(run.status)} and cannot be resumed`,
        { hint: "start a new run with `swamp workflow run`" },
      );
  }
}

/** The step `--from` names: its id or name; an expansion stands for its forEach step. */
function entryStep(run: Run, selector: string): Step {
  const named = run.steps.filter((s) => s.id === selector || s.name === selector);
  const tops = [...new Set(named.map((s) => templateIdOf(s)))];
  if (tops.length === 0) {
    throw new SwampError(ErrorCode.NOT_FOUND, `run ${run.id} has no step \`${selector}\``, {
      hint: `its steps: ${run.steps.filter((s) => !s.templateId).map((s) => s.id).join(", ")}`,
    });
  }
  if (tops.length > 1) {
    throw new SwampError(ErrorCode.AMBIGUOUS, `\`${selector}\` names ${tops.join(", ")}`, {
      hint: "give the step id (job/step)",
    });
  }
  return run.steps.find((s) => s.id === tops[0])!;
}

/** The entry step, everything downstream of it, and what was never reached. */
function reentrySet(run: Run, workflow: Workflow, entry: Step): Set<string> {
  const jobs = downstreamJobs(workflow, entry.job);
  const inJob = downstreamSteps(workflow, entry.job, entry.name);
  const reset = new Set<string>();
  for (const step of run.steps) {
    const top = templateIdOf(step);
    const topStep = top === step.id ? step : run.steps.find((s) => s.id === top);
    if (
      jobs.has(step.job) || (step.job === entry.job && inJob.has(topStep?.name ?? "")) ||
      step.reason.startsWith(notReached) || topStep?.reason.startsWith(notReached)
    ) reset.add(step.id);
  }
  return reset;
}

/** Sends the steps of `reset`, and the jobs they are in, back to pending. */
function reentryDrafts(run: Run, reset: Set<string>, reason: string, actor: string): EventDraft[] {
  const drafts: EventDraft[] = [];
  for (const step of run.steps) {
    if (reset.has(step.id) && step.status !== StepStatus.PENDING) {
      drafts.push(stepDraft(step.id, step.status, StepStatus.PENDING, reason, actor));
    }
  }
  for (const job of run.jobs) {
    const touched = run.steps.some((s) => s.job === job.name && reset.has(s.id));
    if (touched && job.status !== JobStatus.PENDING) {
      drafts.push(jobBackToPending(job, actor, reason));
    }
  }
  return drafts;
}

/** Jobs that depend, directly or not, on `job` (not `job` itself). */
function downstreamJobs(workflow: Workflow, job: string): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const j of workflow.jobs) {
      if (found.has(j.name) || j.name === job) continue;
      if ((j.dependsOn ?? []).some((d) => d.job === job || found.has(d.job))) {
        found.add(j.name);
        grew = true;
      }
    }
  }
  return found;
}

/** Names of `step` and the steps of its job that depend on it, directly or not. */
function downstreamSteps(workflow: Workflow, job: string, step: string): Set<string> {
  const steps = workflow.jobs.find((j) => j.name === job)?.steps ?? [];
  const found = new Set([step]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of steps) {
      if (found.has(s.name)) continue;
      if ((s.dependsOn ?? []).some((d) => found.has(d.step))) {
        found.add(s.name);
        grew = true;
      }
    }
  }
  return found;
}
