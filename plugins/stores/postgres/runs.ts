// Runs: the runs row (head: last event seq, last log seq; listing columns and
// summary), the append-only events, the latest snapshot, and log lines.
//
// An append is a compare-and-swap on the runs row: one conditional UPDATE
// (`WHERE id = $1 AND last_seq = $expected`) that moves last_seq, in the same
// transaction as the event inserts. Of two writers racing with one expected
// seq, the second waits on the first's row lock, then finds last_seq moved and
// updates nothing: it gets StoreConflict with the seq it lost to, whatever
// process it runs in.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type LogLine,
  LogLineSchema,
  type RunEvent,
  RunEventSchema,
} from "../../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  RunStatus,
  type RunSummary,
  RunSummarySchema,
} from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  type AppendRequest,
  checkAppend,
  checkNewRun,
  StoreConflict,
  type StoredRun,
  StoreNotFound,
} from "../../../runtime/mod.ts";
import { big, bytes, type Db, type Row, type Tx } from "./db.ts";
import { changeChannel, changePayload, notifyChange } from "./listen.ts";

const activeStatuses = [
  RunStatus.PENDING,
  RunStatus.RUNNING,
  RunStatus.SUSPENDED,
  RunStatus.CANCELLING,
];

/** How many decoded runs a store keeps for reads of unchanged runs. */
const decodedRuns = 256;

async function lastSeqOf(tx: Tx | Db, runId: string): Promise<bigint | undefined> {
  const { rows } = await tx.query("SELECT last_seq FROM runs WHERE id = $1", [runId]);
  return rows[0] ? big(rows[0].last_seq) : undefined;
}

/**
 * The rows of run $1 a FROM clause selects, in seq order, and a last marker row when the run exists:
 * a follower asks after every change and most asks find nothing new, so telling an unknown
 * run from an unchanged one in the same round trip halves its statements.
 */
const withRunMarker = (fromWhereOrderLimit: string) =>
  `(SELECT 0 AS marker, seq, data ${fromWhereOrderLimit}) ` +
  "UNION ALL (SELECT 1, NULL, NULL FROM runs WHERE id = $1) ORDER BY marker, seq";

/** The rows of a `withRunMarker` query, or StoreNotFound when its marker is missing. */
function found(rows: Row[], runId: string): Row[] {
  if (rows.length === 0 || rows[rows.length - 1].marker !== 1) throw new StoreNotFound(runId);
  return rows.slice(0, -1);
}

export class PgRuns {
  private readonly decoded = new Map<string, { key: string; run: StoredRun }>();

  constructor(private readonly db: Db) {}

  async createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    checkNewRun(first, summary, snapshot);
    const id = summary.id;
    const createMs = summary.createTime ? timestampMs(summary.createTime) : Date.now();
    return await this.db.tx(async (tx) => {
      const inserted = await tx.query(
        "INSERT INTO runs (id, last_seq, create_ms, workflow, status, summary) " +
          "VALUES ($1, 1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        [id, createMs, summary.workflowName, summary.status, toBinary(RunSummarySchema, summary)],
      );
      if (inserted.rowCount === 0) {
        throw new StoreConflict(id, 0n, (await lastSeqOf(tx, id)) ?? 0n);
      }
      await tx.query("INSERT INTO events (run_id, seq, data) VALUES ($1, 1, $2)", [
        id,
        toBinary(RunEventSchema, first),
      ]);
      await tx.query("INSERT INTO snapshots (run_id, revision, data) VALUES ($1, $2, $3)", [
        id,
        snapshot.revision,
        toBinary(RunSchema, snapshot),
      ]);
      await notifyChange(tx, id, "events", 1n);
    });
  }

  async append(request: AppendRequest): Promise<void> {
    checkAppend(request);
    const { runId, expectedSeq, events, summary, snapshot } = request;
    const last = expectedSeq + BigInt(events.length);
    // One statement, so one round trip and its own transaction: every part runs only when the
    // compare-and-swap moved the row, and the notification goes out at its commit.
    const { rows } = await this.db.query(
      "WITH moved AS (UPDATE runs SET last_seq = $3, workflow = $4, status = $5, summary = $6 " +
        "WHERE id = $1 AND last_seq = $2 RETURNING id), " +
        "added AS (INSERT INTO events (run_id, seq, data) " +
        "SELECT $1, e.seq, e.data FROM moved, unnest($7::int8[], $8::bytea[]) AS e(seq, data)), " +
        "kept AS (INSERT INTO snapshots (run_id, revision, data) " +
        "SELECT $1, $9::int8, $10::bytea FROM moved WHERE $10::bytea IS NOT NULL " +
        "ON CONFLICT (run_id) DO UPDATE SET revision = EXCLUDED.revision, data = EXCLUDED.data), " +
        "told AS (SELECT pg_notify($11, $12) FROM moved) " +
        "SELECT count(*) AS moved FROM told",
      [
        runId,
        expectedSeq,
        last,
        summary.workflowName,
        summary.status,
        toBinary(RunSummarySchema, summary),
        events.map((e) => e.seq.toString()),
        events.map((e) => toBinary(RunEventSchema, e)),
        snapshot?.revision ?? 0n,
        snapshot ? toBinary(RunSchema, snapshot) : null,
        changeChannel,
        changePayload(runId, "events", last),
      ],
    );
    if (Number(rows[0].moved) === 1) return;
    const actual = await lastSeqOf(this.db, runId);
    if (actual === undefined) throw new StoreNotFound(runId);
    throw new StoreConflict(runId, expectedSeq, actual);
  }

  async loadRun(runId: string): Promise<StoredRun | undefined> {
    // The snapshot's revision and the last event's seq name a version of the run: while they
    // stay, the record decoded before still holds (and readers may share it).
    const version = (await this.db.rows(
      "SELECT s.revision, r.last_seq FROM snapshots s JOIN runs r ON r.id = s.run_id " +
        "WHERE s.run_id = $1",
      [runId],
    ))[0];
    if (!version) return undefined;
    const known = this.decoded.get(runId);
    if (known?.key === `${version.revision}:${version.last_seq}`) {
      this.decoded.delete(runId);
      this.decoded.set(runId, known);
      return known.run;
    }
    // One statement, so the snapshot and its tail come from one view of the database.
    const row = (await this.db.rows(
      "SELECT s.revision, r.last_seq, s.data, " +
        "ARRAY(SELECT e.data FROM events e WHERE e.run_id = s.run_id AND e.seq > s.revision " +
        "ORDER BY e.seq) AS tail " +
        "FROM snapshots s JOIN runs r ON r.id = s.run_id WHERE s.run_id = $1",
      [runId],
    ))[0];
    if (!row) return undefined;
    const run: StoredRun = {
      snapshot: fromBinary(RunSchema, bytes(row.data)),
      tail: (row.tail as Uint8Array[]).map((data) => fromBinary(RunEventSchema, data)),
    };
    this.decoded.delete(runId);
    this.decoded.set(runId, { key: `${row.revision}:${row.last_seq}`, run });
    if (this.decoded.size > decodedRuns) this.decoded.delete(this.decoded.keys().next().value!);
    return run;
  }

  async readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]> {
    const rows = await this.db.rows(
      withRunMarker(
        "FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      ),
      [runId, afterSeq, limit ?? null],
    );
    return found(rows, runId).map((row) => fromBinary(RunEventSchema, bytes(row.data)));
  }

  async findRunIds(prefix: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // Every id starting with prefix sorts between prefix and prefix + the highest code point.
    const rows = await this.db.rows(
      "SELECT id FROM runs WHERE id >= $1 AND id < $2 LIMIT $3",
      [prefix, prefix + "\u{10FFFF}", limit],
    );
    return rows.map((row) => String(row.id)).filter((id) => id.startsWith(prefix));
  }

  async listActiveRuns(): Promise<RunSummary[]> {
    const rows = await this.db.rows(
      "SELECT summary FROM runs WHERE status = ANY($1::int4[]) ORDER BY create_ms DESC, id DESC",
      [activeStatuses],
    );
    return rows.map((row) => fromBinary(RunSummarySchema, bytes(row.summary)));
  }

  appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]> {
    return this.db.tx(async (tx) => {
      // Moving last_log_seq takes the row's lock: concurrent writers get consecutive ranges.
      const moved = await tx.query(
        "UPDATE runs SET last_log_seq = last_log_seq + $2 WHERE id = $1 RETURNING last_log_seq",
        [runId, lines.length],
      );
      if (moved.rowCount === 0) throw new StoreNotFound(runId);
      const base = big(moved.rows[0].last_log_seq) - BigInt(lines.length);
      const seqs = lines.map((_, i) => base + BigInt(i + 1));
      if (lines.length > 0) {
        await tx.query(
          "INSERT INTO logs (run_id, seq, step_id, data) " +
            "SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::bytea[])",
          [
            runId,
            seqs.map(String),
            lines.map((line) => line.stepId),
            lines.map((line, i) => toBinary(LogLineSchema, { ...line, seq: seqs[i] })),
          ],
        );
        await notifyChange(tx, runId, "logs");
      }
      return seqs;
    });
  }

  async readLogs(
    runId: string,
    afterSeq: bigint,
    limit: number,
    stepId?: string,
  ): Promise<LogLine[]> {
    const rows: Row[] = stepId === undefined
      ? await this.db.rows(
        withRunMarker("FROM logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
        [runId, afterSeq, limit],
      )
      : await this.db.rows(
        withRunMarker(
          "FROM logs WHERE run_id = $1 AND step_id = $4 AND seq > $2 " +
            "ORDER BY seq LIMIT $3",
        ),
        [runId, afterSeq, limit, stepId],
      );
    return found(rows, runId).map((row) => fromBinary(LogLineSchema, bytes(row.data)));
  }
}
