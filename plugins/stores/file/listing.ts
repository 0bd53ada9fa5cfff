// listRuns for the file store: walk the run index newest first, pre-filter on
// its fixed-width lines, and confirm each hit against the run's summary.json
// (the source of truth for status and workflow). The cursor is the index slot
// of the last run returned; slots never move, so paging sees every run once.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import type { RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import type { ListPage, ListQuery } from "../../../runtime/mod.ts";
import type { SummaryFile } from "./codec.ts";
import { type IndexEntry, type RunIndex, workflowHash } from "./index_file.ts";

type ReadSummary = (runId: string) => SummaryFile | undefined;

function parseCursor(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  const slot = Number(cursor);
  if (!Number.isSafeInteger(slot) || slot < 0) {
    throw new SwampError(ErrorCode.USAGE, `\`${cursor}\` is not a listing cursor`, {
      hint: "pass the nextCursor of a previous listing, unchanged",
    });
  }
  return slot;
}

function matches(summary: RunSummary, query: ListQuery): boolean {
  if (query.workflow !== undefined && summary.workflowName !== query.workflow) return false;
  if (query.statuses?.length && !query.statuses.includes(summary.status)) return false;
  return true;
}

export function listRuns(
  index: RunIndex,
  readSummary: ReadSummary,
  query: ListQuery,
): ListPage {
  const limit = Math.floor(query.limit);
  if (!(limit > 0)) return { runs: [], nextCursor: "" };
  const filter = {
    statuses: query.statuses,
    workflowHash: query.workflow === undefined ? undefined : workflowHash(query.workflow),
  };
  const runs: RunSummary[] = [];
  let lastSlot = -1;
  let batch: IndexEntry[] = [];
  // Returns true once the page is full and one more match proves there is a next page.
  const settle = (): boolean => {
    const found = batch.map((entry) => readSummary(entry.runId));
    for (const [i, entry] of batch.entries()) {
      const stored = found[i];
      // A line whose run never finished being created, or a re-created id, has no matching summary.
      if (!stored || stored.slot !== entry.slot || !matches(stored.summary, query)) continue;
      if (runs.length === limit) return true;
      runs.push(stored.summary);
      lastSlot = entry.slot;
    }
    batch = [];
    return false;
  };
  for (const entry of index.newestFirst(filter, parseCursor(query.cursor))) {
    batch.push(entry);
    // Read summaries in batches: enough to fill the page plus one.
    if (batch.length > limit - runs.length && settle()) {
      return { runs, nextCursor: String(lastSlot) };
    }
  }
  if (settle()) return { runs, nextCursor: String(lastSlot) };
  return { runs, nextCursor: "" };
}
