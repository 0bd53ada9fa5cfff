// Many ended (or live) runs at once, through each store's bulk loader, for the
// prune tests at scale: the same files and rows createRun and append write.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema, RunStatus, RunSummarySchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { bulkLoadRuns as bulkLoadFile } from "../../plugins/stores/file/bulk_load.ts";
import { bulkLoadRuns as bulkLoadSqlite } from "../../plugins/stores/sqlite/bulk_load.ts";
import type { BulkRun } from "../../plugins/stores/file/bulk_load.ts";

export type StoreKind = "file" | "sqlite" | "postgres";

const ended = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.ABANDONED];

/**
 * `count` runs of `workflow`, each three events long (created, running, then
 * its status). Ended runs cycle through the four finished statuses and end at
 * `endMs`; live ones (a `status` that is not finished) have no end.
 */
export function manyRuns(
  count: number,
  options: { endMs: number; status?: RunStatus; workflow?: string },
): BulkRun[] {
  return Array.from({ length: count }, (_, i) => {
    const id = crypto.randomUUID();
    const status = options.status ?? ended[i % ended.length];
    const createMs = options.endMs - 60_000;
    const fields = {
      id,
      workflowName: options.workflow ?? "nightly",
      actor: "tester",
      attempt: 1,
      createTime: timestampFromMs(createMs),
    };
    const live = !ended.includes(status);
    const endTime = live ? undefined : timestampFromMs(options.endMs);
    const initial = create(RunSchema, { ...fields, status: RunStatus.PENDING, revision: 1n });
    const event = (seq: bigint, payload: Parameters<typeof create<typeof RunEventSchema>>[1]) =>
      create(RunEventSchema, { runId: id, seq, time: timestampFromMs(createMs), ...payload });
    return {
      events: [
        event(1n, { payload: { case: "runCreated", value: { run: initial } } }),
        event(2n, {
          payload: {
            case: "runStatusChanged",
            value: { from: RunStatus.PENDING, to: RunStatus.RUNNING },
          },
        }),
        event(3n, {
          payload: { case: "runStatusChanged", value: { from: RunStatus.RUNNING, to: status } },
        }),
      ].slice(0, live ? 2 : 3),
      summary: create(RunSummarySchema, { ...fields, status, endTime }),
      snapshot: create(RunSchema, { ...fields, status, endTime, revision: live ? 2n : 3n }),
    };
  });
}

/**
 * Loads `runs` into the store of `kind` at `path` (a `.swamp` directory, a
 * database file, or a PostgreSQL DSN). PostgreSQL has no bulk loader: its
 * runs go through the store's own createRun and append, a few at a time.
 */
export async function bulkLoad(kind: StoreKind, path: string, runs: BulkRun[]): Promise<void> {
  if (kind === "file") await bulkLoadFile(path, runs);
  else if (kind === "sqlite") await bulkLoadSqlite(path, runs);
  else {
    const { openPostgresStore } = await import("../../plugins/stores/postgres/mod.ts");
    const store = await openPostgresStore(path);
    try {
      for (let start = 0; start < runs.length; start += 4) {
        await Promise.all(
          runs.slice(start, start + 4).map(async (run) => {
            const [first, ...rest] = run.events;
            await store.createRun(first, run.summary, run.snapshot);
            if (rest.length > 0) {
              await store.append({
                runId: run.summary.id,
                expectedSeq: 1n,
                events: rest,
                summary: run.summary,
              });
            }
          }),
        );
      }
    } finally {
      await store.close();
    }
  }
}
