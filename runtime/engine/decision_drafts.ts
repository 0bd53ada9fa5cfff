import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft } from "../run/journal.ts";
import { JobStatus, StepStatus } from "../run/status.ts";
import { jobChange, runChange } from "./cancellation.ts";
import type { DefinitionIndex } from "./plan.ts";
import { decide, type Decision, type RunView } from "./scheduler.ts";
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

/**
 * The pass's plan; when all the pass does is end the last unfinished jobs,
 * with the run's end as well: what the next pass would decide from the
 * record those ends leave (the scheduler reads nothing else), so the jobs'
 * ends and the run's go in one append instead of two.
 */
export function planPassToEnd(
  view: RunView,
  defs: DefinitionIndex,
  running: ReadonlySet<string>,
): PassPlan {
  const decisions = decide(view, defs, running);
  const plan = planPass(decisions, view.run);
  if (plan.finish || plan.ready.length > 0 || decisions.length === 0) return plan;
  const ended = new Map<string, JobStatus>();
  for (const d of decisions) {
    if (d.kind !== "finishJob") return plan;
    ended.set(d.job, d.status);
  }
  const run = {
    ...view.run,
    jobs: view.run.jobs.map((job) => {
      const status = ended.get(job.name);
      return status === undefined ? job : { ...job, status };
    }),
  };
  const next = decide(
    {
      run,
      topLevel: (job) => view.topLevel(job),
      step: (id) => view.step(id),
      templateOutcome: (id) => view.templateOutcome(id),
    },
    defs,
    running,
  );
  const last = next.length === 1 ? next[0] : undefined;
  if (last?.kind !== "finishRun") return plan;
  return { ...plan, finish: runChange(view.run.status, last.status, last.reason) };
}
