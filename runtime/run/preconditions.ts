import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { findJob, findStep } from "./fold.ts";
import { StepStatus } from "./status.ts";

// A drafted status transition names the status it leaves (`from`): that is
// the state its writer decided against. Written on a record where the thing
// is no longer in that state (another writer got in first: a cancel, an
// approval, a reconcile), it would undo a decision its writer never saw, so
// it is dropped and the writer decides again from what it now reads
// (docs/design/0011-owner-epochs.md).

interface Transition {
  key: string;
  from: number;
  to: number;
}

function transitionOf(payload: RunEvent["payload"]): Transition | undefined {
  switch (payload.case) {
    case "runStatusChanged":
      return { key: "run", from: payload.value.from, to: payload.value.to };
    case "jobStatusChanged":
      return { key: `job ${payload.value.job}`, from: payload.value.from, to: payload.value.to };
    case "stepStatusChanged":
      return {
        key: `step ${payload.value.stepId}`,
        from: payload.value.from,
        to: payload.value.to,
      };
  }
  return undefined;
}

/** The status `key` has in the record; a step not there yet counts as unspecified (one being added). */
function statusIn(run: Run, key: string): number | undefined {
  if (key === "run") return run.status;
  if (key.startsWith("job ")) return findJob(run, key.slice(4))?.status;
  return findStep(run, key.slice(5))?.status ?? StepStatus.UNSPECIFIED;
}

/**
 * The drafts whose transitions still hold against `run`, in order. A draft
 * is checked against the record as the earlier drafts of the same write
 * leave it, so "pending → running → succeeded" in one write holds. Drafts
 * that are not transitions (heartbeats, waits, locks, outputs) always hold.
 */
export function stillApplicable<D extends { payload: RunEvent["payload"] }>(
  run: Run,
  drafts: readonly D[],
): D[] {
  const written = new Map<string, number>();
  return drafts.filter((draft) => {
    const transition = transitionOf(draft.payload);
    if (!transition) return true;
    const now = written.has(transition.key)
      ? written.get(transition.key)
      : statusIn(run, transition.key);
    if (now !== transition.from) return false;
    written.set(transition.key, transition.to);
    return true;
  });
}
