import type { EventDraft } from "../run/journal.ts";
import { JobStatus, RunStatus, StepStatus } from "../run/status.ts";
import { jobChange, runChange } from "./cancellation.ts";
import type { Decision } from "./scheduler.ts";
import { stepDraft } from "./step_runner.ts";

/** A scheduling pass's decisions as the events they write, the steps that may start, and the run's end. */
export interface PassPlan {
  drafts: EventDraft[];
  ready: string[];
  finish?: EventDraft;
}

export function planPass(decisions: readonly Decision[]): PassPlan {
  const plan: PassPlan = { drafts: [], ready: [] };
  for (const d of decisions) {
    switch (d.kind) {
      case "startJob":
        plan.drafts.push(jobChange(d.job, JobStatus.PENDING, JobStatus.RUNNING, ""));
        break;
      case "finishJob":
        plan.drafts.push(jobChange(d.job, JobStatus.RUNNING, d.status, d.reason));
        break;
      case "skipStep":
        plan.drafts.push(stepDraft(d.stepId, StepStatus.PENDING, StepStatus.SKIPPED, d.reason));
        break;
      case "finishTemplate":
        plan.drafts.push(stepDraft(d.stepId, StepStatus.RUNNING, d.status, d.reason));
        break;
      case "readyStep":
        plan.ready.push(d.stepId);
        break;
      case "finishRun":
        plan.finish = runChange(RunStatus.RUNNING, d.status, d.reason);
    }
  }
  return plan;
}
