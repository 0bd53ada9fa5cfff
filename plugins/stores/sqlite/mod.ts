/// <reference path="./node_sqlite.d.ts" />
// The SQLite store: one database file (WAL mode) that several processes share.
// Every write is one BEGIN IMMEDIATE transaction, so a conditional append's
// read of the last seq and its insert happen under the same write lock.
// API tokens and worker enrollment tokens share the database (tokens.ts,
// worker_tokens.ts).
import type { DatabaseSync, Row } from "node:sqlite";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import {
  type LogLine,
  LogLineSchema,
  type RunEvent,
  RunEventSchema,
} from "../../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  type RunSummary,
  RunSummarySchema,
} from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  type AcquireLease,
  type AppendRequest,
  checkAppend,
  checkNewRun,
  type Lease,
  type ListPage,
  type ListQuery,
  type LockHolder,
  type LockResult,
  type PrunedRun,
  type PruneRule,
  type RunStore,
  type StoredApiToken,
  type StoredRun,
  type StoredWorkerToken,
  StoreNotFound,
  type WorkerTokenBinding,
} from "../../../runtime/mod.ts";
import { RunLister } from "./listing.ts";
import {
  type DatabaseOptions,
  durableWriteTransaction,
  openDatabase,
  whenUnlocked,
  writeTransaction,
} from "./schema.ts";
import { prepareStatements, type Statements } from "./statements.ts";
import { SqliteTokens } from "./tokens.ts";
import { SqliteWorkerTokens } from "./worker_tokens.ts";
import { SqliteData } from "./data.ts";
import { SqliteLeases } from "./leases.ts";
import { SqlitePruner } from "./prune.ts";
import { appendEvents, insertRun, lastSeq } from "./writes.ts";

export type { DatabaseOptions } from "./schema.ts";
export {
  type CheckpointCounts,
  checkpointEvery,
  type WalCheckpointOptions,
  type WalCheckpoints,
} from "./wal_checkpoints.ts";

/** Opens (creating if needed) the SQLite store at `path`. */
export function openSqliteStore(path: string, options: DatabaseOptions = {}): Promise<RunStore> {
  // Spool files (decision 0024) live beside the database; an in-memory one has none.
  const spoolDir = path === ":memory:" || path === ""
    ? undefined
    : `${path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "."}/spool`;
  return openDatabase(path, options).then((db) => new SqliteRunStore(db, spoolDir));
}

/** How many decoded runs a store keeps for reads of unchanged runs. */
const decodedRuns = 256;

/** SQLite's LIMIT -1 means no limit. */
const noLimit = -1;

function decodeAll<D extends DescMessage>(schema: D, rows: Row[]): MessageShape<D>[] {
  return rows.map((row) => fromBinary(schema, row.data as Uint8Array));
}

function holderOf(row: Row): LockHolder {
  return { name: String(row.name), runId: String(row.run_id), since: Number(row.since_ms) };
}

class SqliteRunStore implements RunStore {
  private readonly statements: Statements;
  private readonly lister: RunLister;
  private readonly tokens: SqliteTokens;
  private readonly workerTokens: SqliteWorkerTokens;
  private readonly leases: SqliteLeases;
  private readonly data: SqliteData;
  private pruner?: SqlitePruner;
  private readonly decoded = new Map<
    string,
    { key: string; run: StoredRun; revision: string; lastSeq: bigint }
  >();
  private closed = false;

  constructor(private readonly db: DatabaseSync, readonly spoolDir?: string) {
    this.statements = prepareStatements(db);
    this.lister = new RunLister(db);
    this.tokens = new SqliteTokens(db);
    this.workerTokens = new SqliteWorkerTokens(db);
    this.leases = new SqliteLeases(db);
    this.data = new SqliteData(db);
  }

  private lastSeq(runId: string): bigint | undefined {
    return lastSeq(this.statements, runId);
  }

  createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    return this.write(() => {
      checkNewRun(first, summary, snapshot);
      insertRun(this.statements, first, summary, snapshot);
    });
  }

  append(request: AppendRequest): Promise<void> {
    return this.write(() => {
      checkAppend(request);
      appendEvents(this.statements, request);
    });
  }

  loadRun(runId: string): Promise<StoredRun | undefined> {
    return this.read(() => {
      // The snapshot's revision and the last event's seq name a version of the run: while
      // they stay, the record decoded before still holds (and readers may share it).
      const version = this.statements.version.get(runId);
      if (!version) return undefined;
      const key = `${version.revision}:${version.last_seq}`;
      const known = this.decoded.get(runId);
      this.decoded.delete(runId);
      if (known?.key === key) {
        this.decoded.set(runId, known);
        return known.run;
      }
      let run: StoredRun;
      if (known && known.revision === String(version.revision)) {
        // Only events were added (a running run): the snapshot decoded before holds, and the
        // events read before are followed by those after them.
        const added = this.statements.events.all(runId, known.lastSeq, noLimit);
        run = {
          snapshot: known.run.snapshot,
          tail: [...known.run.tail, ...decodeAll(RunEventSchema, added)],
        };
      } else {
        const row = this.statements.snapshot.get(runId);
        if (!row) return undefined;
        const snapshot = fromBinary(RunSchema, row.data as Uint8Array);
        const tail = decodeAll(
          RunEventSchema,
          this.statements.events.all(runId, snapshot.revision, noLimit),
        );
        run = { snapshot, tail };
      }
      const lastSeq = run.tail.at(-1)?.seq ?? run.snapshot.revision;
      this.decoded.set(runId, { key, run, revision: String(run.snapshot.revision), lastSeq });
      if (this.decoded.size > decodedRuns) this.decoded.delete(this.decoded.keys().next().value!);
      return run;
    });
  }

  readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]> {
    return this.read(() => {
      const rows = this.statements.events.all(runId, afterSeq, limit ?? noLimit);
      if (rows.length === 0 && this.lastSeq(runId) === undefined) throw new StoreNotFound(runId);
      return decodeAll(RunEventSchema, rows);
    });
  }

  findRunIds(prefix: string, limit: number): Promise<string[]> {
    if (limit <= 0) return Promise.resolve([]);
    // Every id starting with prefix sorts between prefix and prefix + the highest code point.
    return this.read(() =>
      this.statements.findIds.all(prefix, prefix + "\u{10FFFF}", limit)
        .map((row) => String(row.id))
        .filter((id) => id.startsWith(prefix))
    );
  }

  listRuns(query: ListQuery): Promise<ListPage> {
    return this.read(() => this.lister.list(query));
  }

  listActiveRuns(): Promise<RunSummary[]> {
    return this.read(() =>
      this.statements.active.all().map((row) =>
        fromBinary(RunSummarySchema, row.summary as Uint8Array)
      )
    );
  }

  appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]> {
    return this.write(() => {
      const row = this.statements.head.get(runId);
      if (!row) throw new StoreNotFound(runId);
      const base = BigInt(row.last_log_seq as number);
      const seqs = lines.map((_, i) => base + BigInt(i + 1));
      for (const [i, line] of lines.entries()) {
        const data = toBinary(LogLineSchema, { ...line, seq: seqs[i] });
        this.statements.insertLog.run(runId, seqs[i], line.stepId, data);
      }
      this.statements.updateLogSeq.run(base + BigInt(lines.length), runId);
      return seqs;
    });
  }

  readLogs(runId: string, afterSeq: bigint, limit: number, stepId?: string): Promise<LogLine[]> {
    return this.read(() => {
      const rows = stepId === undefined
        ? this.statements.logs.all(runId, afterSeq, limit)
        : this.statements.stepLogs.all(runId, stepId, afterSeq, limit);
      if (rows.length === 0 && this.lastSeq(runId) === undefined) throw new StoreNotFound(runId);
      return decodeAll(LogLineSchema, rows);
    });
  }

  tryAcquireLock(name: string, runId: string): Promise<LockResult> {
    return this.write((): LockResult => {
      const row = this.statements.lock.get(name);
      if (!row) {
        this.statements.insertLock.run(name, runId, Date.now());
        return { acquired: true };
      }
      const holder = holderOf(row);
      return holder.runId === runId ? { acquired: true } : { acquired: false, holder };
    });
  }

  releaseLock(name: string, runId: string): Promise<boolean> {
    return this.write(() => Number(this.statements.deleteLock.run(name, runId).changes) > 0);
  }

  releaseLocks(runId: string): Promise<string[]> {
    return this.write(() => {
      const names = this.statements.runLocks.all(runId).map((row) => String(row.name));
      this.statements.deleteRunLocks.run(runId);
      return names;
    });
  }

  listLocks(): Promise<LockHolder[]> {
    return this.read(() => this.statements.allLocks.all().map(holderOf));
  }

  createApiToken(record: StoredApiToken): Promise<void> {
    return this.write(() => this.tokens.create(record));
  }

  getApiToken(name: string): Promise<StoredApiToken | undefined> {
    return this.read(() => this.tokens.get(name));
  }

  listApiTokens(): Promise<StoredApiToken[]> {
    return this.read(() => this.tokens.list());
  }

  revokeApiToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredApiToken; changed: boolean } | undefined> {
    return this.write(() => this.tokens.revoke(name, time));
  }

  createWorkerToken(record: StoredWorkerToken): Promise<void> {
    return this.write(() => this.workerTokens.create(record));
  }

  getWorkerToken(name: string): Promise<StoredWorkerToken | undefined> {
    return this.read(() => this.workerTokens.get(name));
  }

  listWorkerTokens(): Promise<StoredWorkerToken[]> {
    return this.read(() => this.workerTokens.list());
  }

  revokeWorkerToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredWorkerToken; changed: boolean } | undefined> {
    return this.write(() => this.workerTokens.revoke(name, time));
  }

  bindWorkerToken(
    name: string,
    machineId: string,
    time: Date,
  ): Promise<WorkerTokenBinding | undefined> {
    return this.write(() => this.workerTokens.bind(name, machineId, time));
  }
  acquireLease(request: AcquireLease): Promise<Lease> {
    return this.write(() => this.leases.acquire(request));
  }

  getLease(id: string): Promise<Lease | undefined> {
    return this.read(() => this.leases.current(id));
  }

  renewLeases(workerId: string, ids: readonly string[], expireTime: Date): Promise<string[]> {
    return this.write(() => this.leases.renew(workerId, ids, expireTime));
  }

  markLeaseWritten(id: string): Promise<boolean> {
    // "Has written" decides between re-dispatch and failure: it must outlive the machine.
    return this.write(() => this.leases.update(id, (lease) => lease.hasWritten = true), true);
  }

  releaseLease(id: string): Promise<boolean> {
    return this.write(() => this.leases.update(id, (lease) => lease.state = "released"));
  }

  listLeases(
    filter?: { runId?: string; workerId?: string; activeOnly?: boolean },
  ): Promise<Lease[]> {
    return this.read(() => this.leases.list(filter));
  }

  // Data items: their own table, which pruning a run never touches.
  putData: RunStore["putData"] = (draft) => this.write(() => this.data.put(draft));
  getData: RunStore["getData"] = (model, name, version) =>
    this.read(() => this.data.get(model, name, version));
  listDataVersions: RunStore["listDataVersions"] = (model, name) =>
    this.read(() => this.data.versions(model, name));
  listData: RunStore["listData"] = (query) => this.read(() => this.data.list(query));

  pruneRun(runId: string, rule: PruneRule): Promise<PrunedRun | undefined> {
    return this.write(() => (this.pruner ??= new SqlitePruner(this.db)).prune(runId, rule));
  }

  close(): Promise<void> {
    if (!this.closed) this.db.close();
    this.closed = true;
    return Promise.resolve();
  }

  /** A write transaction, as a promise (node:sqlite is synchronous; errors become rejections). */
  /** `durable`: on disk when it returns, not only in the write-ahead log's page cache. */
  private write<T>(body: () => T, durable = false): Promise<T> {
    const transaction = durable ? durableWriteTransaction : writeTransaction;
    return whenUnlocked(() => transaction(this.db, body));
  }

  private read<T>(body: () => T): Promise<T> {
    return whenUnlocked(body);
  }
}
