import { create } from "@bufbuild/protobuf";
import { type Job, JobSchema, type Step, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Job as JobDef, Step as StepDef, Workflow } from "../workflow/schema.ts";
import { JobStatus, StepStatus } from "../run/status.ts";

/** A run's step id: "<job>/<step>", and "<job>/<step>[i]" for a forEach expansion. */
export function stepId(job: string, step: string, item?: number): string {
  return item === undefined ? `${job}/${step}` : `${job}/${step}[${item}]`;
}

/** The jobs and steps a new run starts with (forEach steps expand when they are reached). */
export function planRun(workflow: Workflow): { jobs: Job[]; steps: Step[] } {
  const jobs = workflow.jobs.map((job) =>
    create(JobSchema, { name: job.name, status: JobStatus.PENDING })
  );
  const steps = workflow.jobs.flatMap((job) =>
    job.steps.map((step) =>
      create(StepSchema, {
        id: stepId(job.name, step.name),
        name: step.name,
        job: job.name,
        status: StepStatus.PENDING,
        itemIndex: -1,
        allowFailure: step.allowFailure ?? false,
      })
    )
  );
  return { jobs, steps };
}

/** A step's dependency on another step of its job, by the other's run step id. */
export interface StepDependency {
  stepId: string;
  dep: NonNullable<StepDef["dependsOn"]>[number];
}

/** Looks up definitions by job and step name. */
export class DefinitionIndex {
  private readonly jobs = new Map<string, JobDef>();
  private readonly steps = new Map<string, StepDef>();
  /** Per top-level step id: its dependencies, worked out once (the scheduler asks on every pass). */
  private readonly dependencies = new Map<string, StepDependency[]>();

  constructor(readonly workflow: Workflow) {
    for (const job of workflow.jobs) {
      this.jobs.set(job.name, job);
      for (const step of job.steps) this.steps.set(stepId(job.name, step.name), step);
    }
  }

  job(name: string): JobDef | undefined {
    return this.jobs.get(name);
  }

  /** The definition of a step (or of the forEach step an expansion came from). */
  step(job: string, name: string): StepDef | undefined {
    return this.steps.get(stepId(job, name));
  }

  /** The steps a top-level step of the run depends on. */
  dependenciesOf(step: { id: string; job: string; name: string }): StepDependency[] {
    let found = this.dependencies.get(step.id);
    if (!found) {
      found = (this.step(step.job, step.name)?.dependsOn ?? []).map((dep) => ({
        stepId: stepId(step.job, dep.step),
        dep,
      }));
      this.dependencies.set(step.id, found);
    }
    return found;
  }
}
