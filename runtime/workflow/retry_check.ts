import type { DiagnosticSink, PathSegment } from "../diagnostics/mod.ts";
import { durationMs } from "../text/duration.ts";

type Data = Record<string, unknown>;

/** The longest one backoff may be: longer waits belong to a schedule, not a retry. */
export const maxBackoffMs = 3_600_000;

/**
 * Checks on a step's `retry` and `timeout` that the schema cannot make:
 * bounds on duration texts, and settings that would have no effect.
 */
export function checkRetryAndTimeout(step: Data, path: PathSegment[], sink: DiagnosticSink): void {
  const taskType = isMap(step.task) ? step.task.type : undefined;
  if (step.retry !== undefined && taskType === "manual_approval") {
    sink.add({
      rule: "invalid-value",
      message: "`retry` has no effect on a manual_approval gate: a rejection is a decision",
      hint: "remove `retry`, or give the gate a `timeout` with an `onTimeout` action",
      path: [...path, "retry"],
    });
  }
  if (step.retry !== undefined && taskType === "workflow") {
    sink.add({
      rule: "invalid-value",
      message: "`retry` is not supported on a nested workflow step",
      hint: "put `retry` on the steps of the nested workflow that may fail",
      path: [...path, "retry"],
    });
  }
  if (step.timeout !== undefined && taskType !== undefined && taskType !== "model_method") {
    sink.add({
      severity: "warning",
      rule: "inert-key",
      message: `a step \`timeout\` applies to model_method steps; this ${String(taskType)} ` +
        "step is not stopped by it",
      hint: taskType === "manual_approval"
        ? "put the gate's limit in `task.timeout`"
        : "set `timeout` on the steps that run processes, or on the workflow",
      path: [...path, "timeout"],
    });
  }
  if (!isMap(step.retry)) return;
  const backoff = step.retry.backoff;
  const backoffPath = [...path, "retry", "backoff"];
  if (isMap(backoff)) {
    const initial = bounded(backoff.initial, [...backoffPath, "initial"], sink);
    const max = bounded(backoff.max, [...backoffPath, "max"], sink);
    if (initial !== undefined && max !== undefined && max < initial) {
      sink.add({
        rule: "invalid-value",
        message: "`retry.backoff.max` is shorter than `initial`",
        hint: "make `max` at least `initial`, or remove it",
        path: [...backoffPath, "max"],
      });
    }
  } else bounded(backoff, backoffPath, sink);
}

/** A backoff duration in milliseconds, reported when it is longer than the bound. */
function bounded(value: unknown, path: PathSegment[], sink: DiagnosticSink): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const ms = durationMs(value);
  if (ms !== undefined && ms > maxBackoffMs) {
    sink.add({
      rule: "invalid-value",
      message: `a retry backoff of \`${value}\` is longer than the limit of 1h`,
      hint: "use a backoff of at most 1h",
      path,
    });
  }
  return ms;
}

function isMap(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
