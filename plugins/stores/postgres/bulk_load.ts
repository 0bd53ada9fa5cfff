// Loads many new runs at once into the store's own tables (the rows createRun
// and append write: runs, events, snapshots), a few thousand runs per
// statement through unnest, instead of a transaction each. For filling a
// store (benchmarks, imports); the ids must be new. Sends no notifications.
import { toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type RunEvent, RunEventSchema } from "../../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  type RunSummary,
  RunSummarySchema,
} from "../../../proto/gen/swamp/v1/run_pb.ts";
import { checkNewRun } from "../../../runtime/mod.ts";
import { openPool, parseDsn } from "./connection.ts";
import { Db } from "./db.ts";
import { migrate } from "./migrations.ts";

export interface BulkRun {
  /** The run's whole log, seq 1 (its runCreated) first. */
  events: RunEvent[];
  summary: RunSummary;
  /** The record after the last event (its revision is the last seq). */
  snapshot: Run;
}

const runsPerBatch = 5000;

export async function bulkLoadRuns(dsn: string, runs: BulkRun[]): Promise<void> {
  const target = parseDsn(dsn);
  const db = new Db(openPool(target, { dsn }), target);
  try {
    await migrate(db);
    for (let start = 0; start < runs.length; start += runsPerBatch) {
      await insertBatch(db, runs.slice(start, start + runsPerBatch));
    }
  } finally {
    await db.end();
  }
}

function insertBatch(db: Db, batch: BulkRun[]): Promise<void> {
  const ids: string[] = [];
  const lastSeqs: string[] = [];
  const createMs: string[] = [];
  const workflows: string[] = [];
  const statuses: number[] = [];
  const summaries: Uint8Array[] = [];
  const eventRuns: string[] = [];
  const eventSeqs: string[] = [];
  const eventData: Uint8Array[] = [];
  const revisions: string[] = [];
  const snapshots: Uint8Array[] = [];
  for (const run of batch) {
    const first = run.events[0];
    const created = (first.payload.value as { run: Run }).run;
    checkNewRun(first, run.summary, created);
    const id = run.summary.id;
    ids.push(id);
    lastSeqs.push(String(run.events.at(-1)!.seq));
    createMs.push(String(run.summary.createTime ? timestampMs(run.summary.createTime) : 0));
    workflows.push(run.summary.workflowName);
    statuses.push(run.summary.status);
    summaries.push(toBinary(RunSummarySchema, run.summary));
    for (const event of run.events) {
      eventRuns.push(id);
      eventSeqs.push(String(event.seq));
      eventData.push(toBinary(RunEventSchema, event));
    }
    revisions.push(String(run.snapshot.revision));
    snapshots.push(toBinary(RunSchema, run.snapshot));
  }
  return db.tx(async (tx) => {
    await tx.query(
      "INSERT INTO runs (id, last_seq, create_ms, workflow, status, summary) " +
        "SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int4[], $6::bytea[])",
      [ids, lastSeqs, createMs, workflows, statuses, summaries],
    );
    await tx.query(
      "INSERT INTO events (run_id, seq, data) SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[])",
      [eventRuns, eventSeqs, eventData],
    );
    await tx.query(
      "INSERT INTO snapshots (run_id, revision, data) " +
        "SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[])",
      [ids, revisions, snapshots],
    );
  });
}
