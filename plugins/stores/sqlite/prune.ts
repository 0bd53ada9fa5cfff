/// <reference path="./node_sqlite.d.ts" />
// Pruning one ended run from the SQLite store: the check and every delete in
// one write transaction (the caller's BEGIN IMMEDIATE), so no append can come
// between them and a crash leaves the run whole or gone.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { fromBinary } from "@bufbuild/protobuf";
import { RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { type PrunedRun, type PruneRule, qualifiesForPrune } from "../../../runtime/mod.ts";

const sql = {
  summary: "SELECT summary, length(summary) AS bytes FROM runs WHERE id = ?",
  bytes: "SELECT (SELECT coalesce(sum(length(data)), 0) FROM events WHERE run_id = ?1) + " +
    "(SELECT coalesce(sum(length(data)), 0) FROM logs WHERE run_id = ?1) + " +
    "(SELECT coalesce(sum(length(data)), 0) FROM snapshots WHERE run_id = ?1) AS bytes",
  deletes: [
    "DELETE FROM events WHERE run_id = ?",
    "DELETE FROM logs WHERE run_id = ?",
    "DELETE FROM snapshots WHERE run_id = ?",
    "DELETE FROM locks WHERE run_id = ?",
    "DELETE FROM leases WHERE run_id = ?",
    "DELETE FROM runs WHERE id = ?",
  ],
};

export class SqlitePruner {
  private readonly summary: StatementSync;
  private readonly bytes: StatementSync;
  private readonly deletes: StatementSync[];

  constructor(db: DatabaseSync) {
    this.summary = db.prepare(sql.summary);
    this.bytes = db.prepare(sql.bytes);
    this.deletes = sql.deletes.map((text) => db.prepare(text));
  }

  /** Call inside a write transaction. */
  prune(runId: string, rule: PruneRule): PrunedRun | undefined {
    const row = this.summary.get(runId);
    if (!row) return undefined;
    const summary = fromBinary(RunSummarySchema, row.summary as Uint8Array);
    if (!qualifiesForPrune(summary, rule)) return undefined;
    const bytes = Number(row.bytes) + Number(this.bytes.get(runId)?.bytes ?? 0);
    for (const statement of this.deletes) statement.run(runId);
    return { runId, bytes };
  }
}
