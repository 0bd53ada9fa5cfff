// Pruning one ended run: the check and every delete in one transaction that
// first locks the run's row (FOR UPDATE), so an append (which updates that
// row) waits for it or comes first and is seen; a crash leaves the run whole
// or gone.
import { fromBinary } from "@bufbuild/protobuf";
import { RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { type PrunedRun, type PruneRule, qualifiesForPrune } from "../../../runtime/mod.ts";
import { bytes, type Db, num } from "./db.ts";

const deletes = [
  "DELETE FROM events WHERE run_id = $1",
  "DELETE FROM logs WHERE run_id = $1",
  "DELETE FROM snapshots WHERE run_id = $1",
  "DELETE FROM locks WHERE run_id = $1",
  "DELETE FROM leases WHERE run_id = $1",
  "DELETE FROM runs WHERE id = $1",
];

export function pruneRun(db: Db, runId: string, rule: PruneRule): Promise<PrunedRun | undefined> {
  return db.tx(async (tx) => {
    const row = (await tx.query(
      "SELECT summary, octet_length(summary) AS bytes FROM runs WHERE id = $1 FOR UPDATE",
      [runId],
    )).rows[0];
    if (!row) return undefined;
    if (!qualifiesForPrune(fromBinary(RunSummarySchema, bytes(row.summary)), rule)) {
      return undefined;
    }
    const sizes = (await tx.query(
      "SELECT (SELECT coalesce(sum(octet_length(data)), 0) FROM events WHERE run_id = $1) + " +
        "(SELECT coalesce(sum(octet_length(data)), 0) FROM logs WHERE run_id = $1) + " +
        "(SELECT coalesce(sum(octet_length(data)), 0) FROM snapshots WHERE run_id = $1) AS bytes",
      [runId],
    )).rows[0];
    for (const text of deletes) await tx.query(text, [runId]);
    return { runId, bytes: num(row.bytes) + num(sizes.bytes) };
  });
}
