// listRuns for the memory store: every run sorted newest first, filtered,
// and paged by the same (create time, id) cursor as the SQLite store's.
import type { RunStatus, RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  formatListCursor,
  type ListKey,
  type ListPage,
  type ListQuery,
  newerFirst,
  parseListCursor,
} from "../../../runtime/mod.ts";

export interface ListedRun extends ListKey {
  status: RunStatus;
  workflow: string;
  summary: Uint8Array;
}

export function pageOf(
  runs: ListedRun[],
  query: ListQuery,
  decode: (summary: Uint8Array) => RunSummary,
): ListPage {
  const limit = Math.floor(query.limit);
  if (!(limit > 0)) return { runs: [], nextCursor: "" };
  const after = parseListCursor(query.cursor);
  const statuses = query.statuses?.length ? new Set(query.statuses) : undefined;
  const matching = runs
    .filter((run) =>
      (query.workflow === undefined || run.workflow === query.workflow) &&
      (statuses === undefined || statuses.has(run.status)) &&
      (after === undefined || newerFirst(after, run) < 0)
    )
    .sort(newerFirst);
  const page = matching.slice(0, limit);
  return {
    runs: page.map((run) => decode(run.summary)),
    nextCursor: matching.length > limit ? formatListCursor(page[page.length - 1]) : "",
  };
}
