import { create } from "@bufbuild/protobuf";
import {
  CancelStageReachedSchema,
  JobStatusChangedSchema,
  RunStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft } from "../run/journal.ts";
import { isActiveJob, isTerminalStep, JobStatus, RunStatus, StepStatus } from "../run/status.ts";
import { cancelStage, stepDraft } from "./step_runner.ts";

// The events of a cancel the engine carries out (DESIGN §7), decided from
// the record alone; the engine stops the running steps in between.

export function jobChange(job: string, from: JobStatus, to: JobStatus, reason: string): EventDraft {
  return {
    reason,
    payload: { case: "jobStatusChanged", value: create(JobStatusChangedSchema, { job, from, to }) },
  };
}

export function runChange(from: RunStatus, to: RunStatus, reason: string): EventDraft {
  return {
    reason,
    payload: { case: "runStatusChanged", value: create(RunStatusChangedSchema, { from, to }) },
  };
}

/** Whether every step ended on its own: a cancel arriving now is too late to change anything. */
export function everyStepEnded(run: Run): boolean {
  return run.steps.every((step) =>
    isTerminalStep(step.status) && step.status !== StepStatus.CANCELLED
  );
}

/** The timeline entry of a cancel that came after the last step had ended. */
export function tooLateDraft(now: Date): EventDraft {
  return {
    payload: {
      case: "cancelStageReached",
      value: create(CancelStageReachedSchema, {
        stage: cancelStage("too-late", "", "every step had already ended", now),
      }),
    },
  };
}

/** Every step and job that had not ended, cancelled, once their processes are gone. */
export function cancelledDrafts(run: Run): EventDraft[] {
  const drafts: EventDraft[] = [];
  for (const step of run.steps) {
    if (!isTerminalStep(step.status)) {
      const reason = step.status === StepStatus.PENDING
        ? "run cancelled before it started"
        : "run cancelled";
      drafts.push(stepDraft(step.id, step.status, StepStatus.CANCELLED, reason));
    }
  }
  for (const job of run.jobs) {
    if (isActiveJob(job.status)) {
      drafts.push(jobChange(job.name, job.status, JobStatus.CANCELLED, "run cancelled"));
    }
  }
  return drafts;
}

/** The run's last event: cancelled, saying who asked when it is known. */
export function runCancelledDraft(run: Run): EventDraft {
  const requested = run.cancelTimeline.find((stage) => stage.stage === "requested");
  return runChange(
    RunStatus.CANCELLING,
    RunStatus.CANCELLED,
    requested?.detail ? `cancel requested ${requested.detail}` : "",
  );
}

/** Why a run stopped by its workflow `timeout` failed, naming the limit. */
export function workflowTimeoutReason(timeout: string | number): string {
  const limit = typeof timeout === "number" ? `${timeout}s` : timeout;
  return `workflow_timeout: the run ran longer than its timeout of ${limit} and was stopped`;
}

/**
 * A workflow timeout starts the cancel timeline as a cancel would, with the
 * timeout as who asked, so `status` shows the same stages for both.
 */
export function timeoutRequestedDraft(reason: string, now: Date): EventDraft {
  return {
    reason,
    payload: {
      case: "cancelStageReached",
      value: create(CancelStageReachedSchema, {
        stage: cancelStage("requested", "", "by the workflow timeout", now),
      }),
    },
  };
}
