import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { WaitingChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { type StepRetry, StepRetrySchema, WaitingSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft } from "../run/journal.ts";
import { StepStatus } from "../run/status.ts";
import { durationMs, durationText } from "../text/duration.ts";
import type { Retry } from "../workflow/schema.ts";

// A step's `retry:` (docs/design/0017-step-retry-and-timeouts.md): which
// failures are tried again, how long to wait first, and the events that make
// the wait visible and durable.

export interface RetryPolicy {
  attempts: number;
  /** The backoff before attempt `next` (2 or more), in milliseconds. */
  backoffMs(next: number): number;
}

/** The policy a step's `retry:` describes; undefined when it allows a single attempt. */
export function retryPolicy(retry: Retry | undefined): RetryPolicy | undefined {
  if (!retry || retry.attempts <= 1) return undefined;
  const backoff = retry.backoff;
  if (backoff === undefined) return { attempts: retry.attempts, backoffMs: () => 0 };
  if (typeof backoff !== "object") {
    const fixed = durationMs(backoff) ?? 0;
    return { attempts: retry.attempts, backoffMs: () => fixed };
  }
  const initial = durationMs(backoff.initial) ?? 0;
  const max = durationMs(backoff.max) ?? Number.POSITIVE_INFINITY;
  const factor = backoff.factor ?? 2;
  return {
    attempts: retry.attempts,
    backoffMs: (next) => Math.min(max, Math.round(initial * factor ** Math.max(0, next - 2))),
  };
}

/** What an attempt ended as, as far as retrying goes. */
export interface AttemptEnd {
  status: StepStatus;
  reason: string;
}

/**
 * Whether a failed attempt may be tried again. A cancel is never retried.
 * Neither is a lost worker (`worker_lost`): the remote executor has already
 * re-dispatched what it safely could, and what remains is a step that may
 * have written (DESIGN §10, the write-then-fail rule) or one lost too often.
 */
export function isRetryable(end: AttemptEnd, signal: AbortSignal): boolean {
  return end.status === StepStatus.FAILED && !signal.aborted &&
    !end.reason.startsWith("worker_lost");
}

export function retryState(attempt: number, attempts: number, next?: Date): StepRetry {
  return create(StepRetrySchema, {
    attempt,
    attempts,
    nextTime: next ? timestampFromDate(next) : undefined,
  });
}

/** Why a step is back to pending: which attempt failed, how, and when the next starts. */
export function retryReason(failed: number, attempts: number, why: string, waitMs: number): string {
  const when = waitMs > 0 ? `in ${durationText(waitMs)}` : "now";
  return `attempt ${failed} of ${attempts} failed (${why}); attempt ${failed + 1} starts ${when}`;
}

/** The step waits for its backoff until `next` (shown by status and listings while it waits). */
export function retryWait(stepId: string, next: Date): EventDraft {
  return {
    payload: {
      case: "waitingChanged",
      value: create(WaitingChangedSchema, {
        stepId,
        waiting: create(WaitingSchema, { on: { case: "retry", value: timestampFromDate(next) } }),
      }),
    },
  };
}

/** The wait is over (the next attempt starts, or the step ends). */
export function retryWaitOver(stepId: string): EventDraft {
  return {
    payload: {
      case: "waitingChanged",
      value: create(WaitingChangedSchema, { stepId, waiting: create(WaitingSchema, {}) }),
    },
  };
}
