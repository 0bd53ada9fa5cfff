import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft } from "../run/journal.ts";
import { JobStatus, StepStatus } from "../run/status.ts";
import { jobChange, runChange } from "./cancellation.ts";
import type { Decision } from "./scheduler.ts";
import { stepDraft } from "./step_runner.ts";

/** A scheduling pass's decisions as the events they write, the steps that may start, and the run's end. */
export interface PassPlan {
  drafts: EventDraft[];
  ready: string[];
  finish?: EventDraft;
}

/**
 * The pass's transitions start from the record it was decided on: the run's
 * end too (a cancel that came too late leaves it `cancelling` until then).
 */
export function planPass(decisions: readonly Decision[], run: Run): PassPlan {
  const plan: PassPlan = { drafts: [], ready: [] };
  // Each transition leaves the status the pass saw (a job may also be started
  // and finished in one pass, or skipped while still pending).
  const jobs = new Map(run.jobs.map((job) => [job.name, job.status]));
  const moveJob = (job: string, to: JobStatus, reason: string) => {
    plan.drafts.push(jobChange(job, jobs.get(job) ?? JobStatus.UNSPECIFIED, to, reason));
    jobs.set(job, to);
  };
  for (const d of decisions) {
    switch (d.kind) {
      case "startJob":
        moveJob(d.job, JobStatus.RUNNING, "");
        break;
      case "finishJob":
        moveJob(d.job, d.status, d.reason);
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
        plan.finish = runChange(run.status, d.status, d.reason);
    }
  }
  return plan;
}
