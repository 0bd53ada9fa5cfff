import { timestampMs } from "@bufbuild/protobuf/wkt";
import { RunStatus, type RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import { isTerminalRun } from "../run/status.ts";

/** Which ended runs RunStore.pruneRun may delete. */
export interface PruneRule {
  /** Only runs that ended before this instant, ms since the epoch. */
  endedBeforeMs: number;
  /** Only runs in one of these statuses; a status that is not terminal never qualifies. */
  statuses: readonly RunStatus[];
}

/** What pruning one run freed. */
export interface PrunedRun {
  runId: string;
  /** Bytes of the run's stored records (events, snapshot, summary, log lines). */
  bytes: number;
}

/** The statuses a prune takes when none are named: every terminal one. */
export const finishedStatuses: readonly RunStatus[] = [
  RunStatus.SUCCEEDED,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
  RunStatus.ABANDONED,
];

/**
 * Whether a run with this summary may be pruned: it has ended (a terminal
 * status the rule names) and its end time is before the cutoff. A run
 * without an end time is kept: nothing says how old its end is.
 */
export function qualifiesForPrune(summary: RunSummary, rule: PruneRule): boolean {
  if (!isTerminalRun(summary.status) || !rule.statuses.includes(summary.status)) return false;
  return summary.endTime !== undefined && timestampMs(summary.endTime) < rule.endedBeforeMs;
}
