// A run store in this process's memory: for fast tests of the engine and the
// services (issue 17), never for a repository. It keeps every record as
// protobuf binary, as the SQLite store does, so a caller that changes what it
// read or wrote changes nothing stored. One process only: it has none of the
// other stores' cross-process locking, and passes the store contract's
// single-process cases (test/contracts/store_contract_test.ts).
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
  type ListPage,
  type ListQuery,
  type LockHolder,
  type LockResult,
  type PrunedRun,
  type PruneRule,
  qualifiesForPrune,
  type RunStore,
  StoreConflict,
  type StoredRun,
  StoreNotFound,
} from "../../../runtime/mod.ts";
import { MemoryDataItems } from "./data.ts";
import { MemoryLeases } from "./leases.ts";
import { MemoryTokens } from "./tokens.ts";
import { pageOf } from "./runs.ts";

interface RunRecord {
  createMs: number;
  summary: Uint8Array;
  status: RunStatus;
  workflow: string;
  events: Uint8Array[];
  snapshot: Uint8Array;
  logs: { stepId: string; data: Uint8Array }[];
}

/** What a store's instances share: one "database", kept as long as the object is. */
export class MemoryData {
  readonly runs = new Map<string, RunRecord>();
  readonly locks = new Map<string, LockHolder>();
  readonly tokens = new MemoryTokens();
  readonly leases = new MemoryLeases();
  readonly items = new MemoryDataItems();
}

const active = new Set([
  RunStatus.PENDING,
  RunStatus.RUNNING,
  RunStatus.SUSPENDED,
  RunStatus.CANCELLING,
]);

/** A store over `data` (a new, empty one by default); another call on the same data is a reopen. */
export function openMemoryStore(data = new MemoryData()): Promise<RunStore> {
  return Promise.resolve(new MemoryRunStore(data));
}

/** Runs `body` now, as a promise: errors become rejections, as the other stores' are. */
function settled<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error);
  }
}

class MemoryRunStore implements RunStore {
  constructor(private readonly data: MemoryData) {}

  private run(runId: string): RunRecord {
    const run = this.data.runs.get(runId);
    if (!run) throw new StoreNotFound(runId);
    return run;
  }

  createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    return settled(() => {
      checkNewRun(first, summary, snapshot);
      const existing = this.data.runs.get(summary.id);
      if (existing) throw new StoreConflict(summary.id, 0n, BigInt(existing.events.length));
      this.data.runs.set(summary.id, {
        createMs: summary.createTime ? timestampMs(summary.createTime) : Date.now(),
        summary: toBinary(RunSummarySchema, summary),
        status: summary.status,
        workflow: summary.workflowName,
        events: [toBinary(RunEventSchema, first)],
        snapshot: toBinary(RunSchema, snapshot),
        logs: [],
      });
    });
  }

  append(request: AppendRequest): Promise<void> {
    return settled(() => {
      checkAppend(request);
      const run = this.run(request.runId);
      const actual = BigInt(run.events.length);
      if (actual !== request.expectedSeq) {
        throw new StoreConflict(request.runId, request.expectedSeq, actual);
      }
      for (const event of request.events) run.events.push(toBinary(RunEventSchema, event));
      run.summary = toBinary(RunSummarySchema, request.summary);
      run.status = request.summary.status;
      run.workflow = request.summary.workflowName;
      if (request.snapshot) run.snapshot = toBinary(RunSchema, request.snapshot);
    });
  }

  loadRun(runId: string): Promise<StoredRun | undefined> {
    return settled(() => {
      const run = this.data.runs.get(runId);
      if (!run) return undefined;
      const snapshot = fromBinary(RunSchema, run.snapshot);
      const tail = run.events.slice(Number(snapshot.revision))
        .map((bytes) => fromBinary(RunEventSchema, bytes));
      return { snapshot, tail };
    });
  }

  readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]> {
    return settled(() => {
      const events = this.run(runId).events;
      const start = Number(afterSeq);
      const end = limit === undefined ? events.length : start + limit;
      return events.slice(start, end).map((bytes) => fromBinary(RunEventSchema, bytes));
    });
  }

  findRunIds(prefix: string, limit: number): Promise<string[]> {
    return settled(() => {
      if (limit <= 0) return [];
      return [...this.data.runs.keys()].filter((id) => id.startsWith(prefix)).slice(0, limit);
    });
  }

  listRuns(query: ListQuery): Promise<ListPage> {
    return settled(() => {
      const rows = [...this.data.runs].map(([id, run]) => ({ id, ...run }));
      return pageOf(rows, query, (bytes) => fromBinary(RunSummarySchema, bytes));
    });
  }

  listActiveRuns(): Promise<RunSummary[]> {
    return settled(() =>
      [...this.data.runs]
        .filter(([, run]) => active.has(run.status))
        .sort(([a, x], [b, y]) => y.createMs - x.createMs || (a < b ? 1 : a > b ? -1 : 0))
        .map(([, run]) => fromBinary(RunSummarySchema, run.summary))
    );
  }

  appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]> {
    return settled(() => {
      const logs = this.run(runId).logs;
      return lines.map((line) => {
        const seq = BigInt(logs.length + 1);
        logs.push({ stepId: line.stepId, data: toBinary(LogLineSchema, { ...line, seq }) });
        return seq;
      });
    });
  }

  readLogs(runId: string, afterSeq: bigint, limit: number, stepId?: string): Promise<LogLine[]> {
    return settled(() => {
      const lines = this.run(runId).logs.slice(Number(afterSeq))
        .filter((line) => stepId === undefined || line.stepId === stepId);
      return (limit < 0 ? lines : lines.slice(0, limit))
        .map((line) => fromBinary(LogLineSchema, line.data));
    });
  }

  tryAcquireLock(name: string, runId: string): Promise<LockResult> {
    return settled((): LockResult => {
      const holder = this.data.locks.get(name);
      if (!holder) {
        this.data.locks.set(name, { name, runId, since: Date.now() });
        return { acquired: true };
      }
      return holder.runId === runId
        ? { acquired: true }
        : { acquired: false, holder: { ...holder } };
    });
  }

  releaseLock(name: string, runId: string): Promise<boolean> {
    return settled(() => {
      if (this.data.locks.get(name)?.runId !== runId) return false;
      return this.data.locks.delete(name);
    });
  }

  releaseLocks(runId: string): Promise<string[]> {
    return settled(() => {
      const names = [...this.data.locks.values()].filter((h) => h.runId === runId)
        .map((h) => h.name).sort();
      for (const name of names) this.data.locks.delete(name);
      return names;
    });
  }

  listLocks(): Promise<LockHolder[]> {
    return settled(() =>
      [...this.data.locks.values()].map((holder) => ({ ...holder }))
        .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    );
  }

  pruneRun(runId: string, rule: PruneRule): Promise<PrunedRun | undefined> {
    return settled(() => {
      const run = this.data.runs.get(runId);
      if (!run || !qualifiesForPrune(fromBinary(RunSummarySchema, run.summary), rule)) {
        return undefined;
      }
      const bytes = run.summary.length + run.snapshot.length +
        run.events.reduce((sum, event) => sum + event.length, 0) +
        run.logs.reduce((sum, line) => sum + line.data.length, 0);
      this.data.runs.delete(runId);
      for (const [name, holder] of this.data.locks) {
        if (holder.runId === runId) this.data.locks.delete(name);
      }
      this.data.leases.forgetRun(runId);
      return { runId, bytes };
    });
  }

  // Tokens and leases: the shared records, behind the same promise shape.
  createApiToken: RunStore["createApiToken"] = (r) => settled(() => this.data.tokens.createApi(r));
  getApiToken: RunStore["getApiToken"] = (n) => settled(() => this.data.tokens.getApi(n));
  listApiTokens: RunStore["listApiTokens"] = () => settled(() => this.data.tokens.listApi());
  revokeApiToken: RunStore["revokeApiToken"] = (n, t) =>
    settled(() => this.data.tokens.revokeApi(n, t));
  createWorkerToken: RunStore["createWorkerToken"] = (r) =>
    settled(() => this.data.tokens.createWorker(r));
  getWorkerToken: RunStore["getWorkerToken"] = (n) => settled(() => this.data.tokens.getWorker(n));
  listWorkerTokens: RunStore["listWorkerTokens"] = () =>
    settled(() => this.data.tokens.listWorker());
  revokeWorkerToken: RunStore["revokeWorkerToken"] = (n, t) =>
    settled(() => this.data.tokens.revokeWorker(n, t));
  bindWorkerToken: RunStore["bindWorkerToken"] = (n, m, t) =>
    settled(() => this.data.tokens.bindWorker(n, m, t));
  acquireLease: RunStore["acquireLease"] = (r) => settled(() => this.data.leases.acquire(r));
  getLease: RunStore["getLease"] = (id) => settled(() => this.data.leases.current(id));
  renewLeases: RunStore["renewLeases"] = (w, ids, t) =>
    settled(() => this.data.leases.renew(w, ids, t));
  markLeaseWritten: RunStore["markLeaseWritten"] = (id) =>
    settled(() => this.data.leases.update(id, (lease) => lease.hasWritten = true));
  releaseLease: RunStore["releaseLease"] = (id) =>
    settled(() => this.data.leases.update(id, (lease) => lease.state = "released"));
  listLeases: RunStore["listLeases"] = (filter) => settled(() => this.data.leases.list(filter));

  // Data items: kept whatever happens to the runs that wrote them (prune leaves them).
  putData: RunStore["putData"] = (draft) => settled(() => this.data.items.put(draft));
  getData: RunStore["getData"] = (m, n, v) => settled(() => this.data.items.get(m, n, v));
  listDataVersions: RunStore["listDataVersions"] = (m, n) =>
    settled(() => this.data.items.versions(m, n));
  listData: RunStore["listData"] = (query) => settled(() => this.data.items.list(query));

  close(): Promise<void> {
    return Promise.resolve();
  }
}
