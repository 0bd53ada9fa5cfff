import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { isActiveJob, isTerminalStep, JobStatus, RunStatus, StepStatus } from "../run/status.ts";
import { allowedFailuresText, nameList } from "../run/fan_outs.ts";
import { conditionHolds, describeCondition } from "./conditions.ts";
import type { DefinitionIndex } from "./plan.ts";

// What can happen next in a run, decided from its record alone, so the same
// answer comes out whoever asks and however often. Starting a step (guards,
// forEach expansion, concurrency) is left to the engine.

export type Decision =
  | { kind: "startJob"; job: string }
  | { kind: "finishJob"; job: string; status: JobStatus; reason: string }
  | { kind: "skipStep"; stepId: string; reason: string }
  | { kind: "readyStep"; stepId: string }
  | { kind: "finishTemplate"; stepId: string; status: StepStatus; reason: string }
  | { kind: "finishRun"; status: RunStatus; reason: string };

/** The id of the forEach step an expansion belongs to, or the step's own id. */
export function templateIdOf(step: Step): string {
  return step.templateId || step.id;
}

export function isExpansion(step: Step): boolean {
  return step.itemIndex >= 0;
}

/** What the scheduler reads: the record plus indexes the engine keeps up to date. */
export interface RunView {
  run: Run;
  /** The job's steps as written in the workflow (not forEach expansions). */
  topLevel(job: string): Step[];
  step(id: string): Step | undefined;
  /** For a forEach step whose expansions have all ended: its outcome. */
  templateOutcome(templateId: string): [StepStatus, string] | undefined;
}

export function decide(
  view: RunView,
  defs: DefinitionIndex,
  running: ReadonlySet<string>,
): Decision[] {
  const { run } = view;
  const decisions: Decision[] = [];
  const jobStatus = new Map(run.jobs.map((j) => [j.name, j.status]));

  for (const job of run.jobs) {
    const def = defs.job(job.name);
    if (!def) continue;
    const steps = view.topLevel(job.name);
    if (job.status === JobStatus.PENDING) {
      let waiting = false;
      let blocked = "";
      for (const dep of def.dependsOn ?? []) {
        const status = jobStatus.get(dep.job);
        if (status === undefined) continue;
        if (!isTerminalJob(status)) {
          waiting = true;
          break;
        }
        if (!conditionHolds(dep.condition, jobAsStep(status)) && !blocked) {
          blocked = `job \`${dep.job}\` ${jobWord(status)}; needs ${
            describeCondition(dep.condition)
          }`;
        }
      }
      if (waiting) continue;
      if (blocked) {
        decisions.push({
          kind: "finishJob",
          job: job.name,
          status: JobStatus.SKIPPED,
          reason: blocked,
        });
        for (const step of steps) {
          if (!isTerminalStep(step.status)) {
            decisions.push({
              kind: "skipStep",
              stepId: step.id,
              reason: `job skipped: ${blocked}`,
            });
          }
        }
        continue;
      }
      decisions.push({ kind: "startJob", job: job.name });
    } else if (job.status !== JobStatus.RUNNING) {
      continue;
    }
    for (const step of steps) {
      if (step.status === StepStatus.PENDING && !running.has(step.id)) {
        const verdict = dependencyVerdict(step, defs, view);
        if (verdict === "wait") continue;
        if (verdict !== "go") {
          decisions.push({ kind: "skipStep", stepId: step.id, reason: verdict });
        } else decisions.push({ kind: "readyStep", stepId: step.id });
      } else if (step.status === StepStatus.RUNNING && !running.has(step.id)) {
        const outcome = view.templateOutcome(step.id);
        if (outcome) {
          decisions.push({
            kind: "finishTemplate",
            stepId: step.id,
            status: outcome[0],
            reason: outcome[1],
          });
        }
      }
    }
    if (steps.every((s) => isTerminalStep(s.status)) && !steps.some((s) => running.has(s.id))) {
      const [status, reason] = jobOutcome(steps);
      decisions.push({ kind: "finishJob", job: job.name, status, reason });
    }
  }

  // The run ends in the pass that ends its last jobs, when ending them is all that pass does:
  // its end follows from their ends alone, so both are written at once.
  const ended = new Map<string, JobStatus>();
  for (const d of decisions) if (d.kind === "finishJob") ended.set(d.job, d.status);
  const statusOf = (job: { name: string; status: JobStatus }) => ended.get(job.name) ?? job.status;
  if (
    ended.size === decisions.length && running.size === 0 &&
    run.jobs.every((j) => isTerminalJob(statusOf(j)))
  ) {
    const failed = run.jobs.filter((j) => statusOf(j) === JobStatus.FAILED).map((j) => j.name);
    const cancelled = run.jobs.some((j) => statusOf(j) === JobStatus.CANCELLED);
    if (cancelled) {
      decisions.push({ kind: "finishRun", status: RunStatus.CANCELLED, reason: "cancelled" });
    } else if (failed.length > 0) {
      decisions.push({
        kind: "finishRun",
        status: RunStatus.FAILED,
        reason: `failed jobs: ${failed.join(", ")}`,
      });
    } else {
      decisions.push({
        kind: "finishRun",
        status: RunStatus.SUCCEEDED,
        reason: allowedFailuresText(run),
      });
    }
  }
  return decisions;
}

/** "go", "wait", or the reason the step is skipped. */
function dependencyVerdict(
  step: Step,
  defs: DefinitionIndex,
  view: RunView,
): "go" | "wait" | string {
  for (const { stepId, dep } of defs.dependenciesOf(step)) {
    const other = view.step(stepId);
    if (!other) continue;
    if (!isTerminalStep(other.status)) return "wait";
    if (!conditionHolds(dep.condition, other.status)) {
      return `step \`${dep.step}\` ${stepWord(other.status)}; needs ${
        describeCondition(dep.condition)
      }`;
    }
  }
  return "go";
}

/** The outcome of a forEach step from its expansions. */
export function aggregate(items: Step[]): [StepStatus, string] {
  const failed = items.filter((s) => s.status === StepStatus.FAILED && !s.allowFailure).length;
  if (items.some((s) => s.status === StepStatus.CANCELLED)) {
    return [StepStatus.CANCELLED, "cancelled"];
  }
  if (failed > 0) return [StepStatus.FAILED, `${failed} of ${items.length} items failed`];
  // Failures that were allowed stay visible: how many, and which (0018).
  const allowed = items.filter((s) => s.status === StepStatus.FAILED).map((s) => s.name);
  if (allowed.length > 0) {
    return [
      StepStatus.SUCCEEDED,
      `${items.length} items; ${allowed.length} failed (allowed): ${nameList(allowed)}`,
    ];
  }
  return [StepStatus.SUCCEEDED, `${items.length} items`];
}

function jobOutcome(steps: Step[]): [JobStatus, string] {
  if (steps.some((s) => s.status === StepStatus.CANCELLED)) {
    return [JobStatus.CANCELLED, "cancelled"];
  }
  const failed = steps.filter((s) => s.status === StepStatus.FAILED && !s.allowFailure).map((s) =>
    s.name
  );
  if (failed.length > 0) return [JobStatus.FAILED, `failed steps: ${failed.join(", ")}`];
  if (steps.every((s) => s.status === StepStatus.SKIPPED)) {
    return [JobStatus.SKIPPED, "every step skipped"];
  }
  return [JobStatus.SUCCEEDED, ""];
}

export function isTerminalJob(status: JobStatus): boolean {
  return !isActiveJob(status) && status !== JobStatus.UNSPECIFIED;
}

function jobAsStep(status: JobStatus): StepStatus {
  switch (status) {
    case JobStatus.SUCCEEDED:
      return StepStatus.SUCCEEDED;
    case JobStatus.FAILED:
      return StepStatus.FAILED;
    case JobStatus.SKIPPED:
      return StepStatus.SKIPPED;
    case JobStatus.CANCELLED:
      return StepStatus.CANCELLED;
    default:
      return StepStatus.ABANDONED;
  }
}

function stepWord(status: StepStatus): string {
  return `${(StepStatus[status] ?? "?").toLowerCase()}`;
}

function jobWord(status: JobStatus): string {
  return `${(JobStatus[status] ?? "?").toLowerCase()}`;
}
