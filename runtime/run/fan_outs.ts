import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { StepStatus, stepStatusText } from "./status.ts";

// How each forEach step's items ended, read from the run record alone, so
// `status`, the scheduler's reasons and the run's final line agree
// (docs/design/0018-fan-out-outputs.md).

/** One forEach step and how its items stand. */
export interface FanOutSummary {
  /** The forEach step's id (its name as written). */
  step: string;
  total: number;
  /** Items per status, by its lowercase name; statuses no item has are absent. */
  counts: Record<string, number>;
  /** The resolved names of the failed items, in item order. */
  failedItems: string[];
  /** Whether the items' failures are allowed (the step has `allowFailure`). */
  allowFailure: boolean;
}

/** The run's forEach steps that fanned out, in the order the record lists them. */
export function fanOutSummaries(run: Run): FanOutSummary[] {
  const byTemplate = new Map<string, Step[]>();
  for (const step of run.steps) {
    if (step.itemIndex < 0 || !step.templateId) continue;
    const items = byTemplate.get(step.templateId);
    if (items) items.push(step);
    else byTemplate.set(step.templateId, [step]);
  }
  const out: FanOutSummary[] = [];
  for (const step of run.steps) {
    const items = byTemplate.get(step.id);
    if (!items) continue;
    out.push(summarize(step.id, step.allowFailure, items));
  }
  return out;
}

export function summarize(step: string, allowFailure: boolean, items: Step[]): FanOutSummary {
  const counts: Record<string, number> = {};
  const failedItems: string[] = [];
  for (const item of items) {
    const word = stepStatusText(item.status);
    counts[word] = (counts[word] ?? 0) + 1;
    if (item.status === StepStatus.FAILED) failedItems.push(item.name);
  }
  return { step, total: items.length, counts, failedItems, allowFailure };
}

/** "deploy-b, deploy-c", at most `limit` names and how many more: reasons stay one line. */
export function nameList(names: readonly string[], limit = 10): string {
  const shown = names.slice(0, limit).join(", ");
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/**
 * What a run that succeeded although items or steps failed says about them
 * ("1 of 3 items failed (allowed)"), or "" when nothing failed.
 */
export function allowedFailuresText(run: Run): string {
  let failedItems = 0;
  let items = 0;
  // Counted over the fan-outs that had failures: "1 of 3", not 1 of every item of the run.
  for (const fan of fanOutSummaries(run)) {
    if (!fan.counts.failed) continue;
    items += fan.total;
    failedItems += fan.counts.failed;
  }
  const failedSteps =
    run.steps.filter((s) => s.itemIndex < 0 && s.allowFailure && s.status === StepStatus.FAILED)
      .length;
  const parts: string[] = [];
  if (failedItems > 0) parts.push(`${failedItems} of ${items} items failed (allowed)`);
  if (failedSteps > 0) {
    parts.push(`${failedSteps} step${failedSteps === 1 ? "" : "s"} failed (allowed)`);
  }
  return parts.join("; ");
}
