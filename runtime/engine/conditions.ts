import type { Condition } from "../workflow/schema.ts";
import { StepStatus } from "../run/status.ts";

/** The reason of a step its guard skipped: a resume of an abandoned run keeps such a step. */
export const guarded = "guarded";

/** Whether a dependency that ended with `status` lets its dependant run. */
export function conditionHolds(condition: Condition, status: StepStatus): boolean {
  switch (condition.type) {
    case "always":
      return true;
    case "succeeded":
      return status === StepStatus.SUCCEEDED;
    case "failed":
      return status === StepStatus.FAILED;
    case "completed":
      return status === StepStatus.SUCCEEDED || status === StepStatus.FAILED;
    case "skipped":
      return status === StepStatus.SKIPPED;
    case "and":
      return condition.conditions.every((c) => conditionHolds(c, status));
    case "or":
      return condition.conditions.some((c) => conditionHolds(c, status));
    case "not":
      return !conditionHolds(condition.condition, status);
  }
}

export function describeCondition(condition: Condition): string {
  switch (condition.type) {
    case "and":
    case "or":
      return `(${condition.conditions.map(describeCondition).join(` ${condition.type} `)})`;
    case "not":
      return `not ${describeCondition(condition.condition)}`;
    default:
      return condition.type;
  }
}
