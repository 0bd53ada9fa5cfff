// Loads many new runs at once through the same writes createRun and append
// make, a few thousand per transaction instead of one each. For filling a
// store (benchmarks, imports); the ids must be new.
import type { RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { openDatabase, whenUnlocked, writeTransaction } from "./schema.ts";
import { prepareStatements } from "./statements.ts";
import { checkAppend, checkNewRun } from "../../../runtime/mod.ts";
import { appendEvents, insertRun } from "./writes.ts";

export interface BulkRun {
  /** The run's whole log, seq 1 (its runCreated) first. */
  events: RunEvent[];
  summary: RunSummary;
  snapshot: Run;
}

const runsPerTransaction = 5000;

export async function bulkLoadRuns(path: string, runs: BulkRun[]): Promise<void> {
  const db = await openDatabase(path);
  try {
    // A big page cache for this connection only: random ids scatter inserts across the indexes.
    db.exec("PRAGMA cache_size = -262144"); // 256 MiB
    const statements = prepareStatements(db);
    for (let start = 0; start < runs.length; start += runsPerTransaction) {
      await whenUnlocked(() =>
        writeTransaction(db, () => {
          for (const run of runs.slice(start, start + runsPerTransaction)) {
            const [first, ...rest] = run.events;
            checkNewRun(first, run.summary, run.snapshot);
            insertRun(statements, first, run.summary, run.snapshot);
            if (rest.length === 0) continue;
            const request = {
              runId: run.summary.id,
              expectedSeq: 1n,
              events: rest,
              summary: run.summary,
            };
            checkAppend(request);
            appendEvents(statements, request);
          }
        })
      );
    }
  } finally {
    db.close();
  }
}
