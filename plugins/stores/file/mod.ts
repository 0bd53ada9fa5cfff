// The file store: runs as plain files under a repository's `.swamp`
// directory (layout in paths.ts). Every write that two processes could race
// happens under an exclusive file lock (flock): the run's events.jsonl for
// appends, logs.jsonl for log lines, the run index for creation. An append
// costs a tail read and a few lines written, whatever the size of the run
// (run_writes.ts).
// API tokens and worker enrollment tokens live beside the runs (tokens.ts,
// worker_tokens.ts).
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { LogLine, RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  type AcquireLease,
  type AppendRequest,
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
import {
  decodeEvent,
  decodeLogLine,
  decodeRun,
  decodeSummaryFile,
  encodeLogLine,
  isActive,
  type SummaryFile,
} from "./codec.ts";
import { DataFiles } from "./data.ts";
import { EventTails } from "./event_tails.ts";
import { DecodedFiles } from "./decoded_files.ts";
import { LeaseFiles } from "./leases.ts";
import { exists, promised, readTextIfExists } from "./fsio.ts";
import { RunIndex } from "./index_file.ts";
import { appendLines, readAfter, readTail } from "./jsonl.ts";
import { listRuns } from "./listing.ts";
import { LockFiles } from "./locks.ts";
import { isRunId, Layout } from "./paths.ts";
import { emptyTrash, pruneRunFiles } from "./prune.ts";
import { watchRunFiles } from "./run_watch.ts";
import { TokenFiles } from "./tokens.ts";
import { WorkerTokenFiles } from "./worker_tokens.ts";
import { RunWrites } from "./run_writes.ts";

export interface FileStoreOptions {
  /**
   * Flush every write to disk before returning (default true). Turn off only
   * for throwaway data (tests, benchmark fills): a crash may lose the last writes.
   */
  fsync?: boolean;
}

/** Opens (creating if needed) the file store in `stateDir`, a repository's `.swamp` directory. */
export async function openFileStore(
  stateDir: string,
  options: FileStoreOptions = {},
): Promise<RunStore> {
  const layout = new Layout(stateDir);
  const dirs = [
    layout.runs,
    layout.active,
    layout.lockTemp,
    layout.tokenTemp,
    layout.workerTokenTemp,
  ];
  for (const dir of dirs) {
    await Deno.mkdir(dir, { recursive: true });
  }
  return new FileRunStore(layout, options.fsync ?? true);
}

class FileRunStore implements RunStore {
  private readonly index: RunIndex;
  /** Read by pruneRunFiles, with layout and leases. */
  readonly locks: LockFiles;
  private readonly tokens: TokenFiles;
  private readonly workerTokens: WorkerTokenFiles;
  readonly leases: LeaseFiles;
  private readonly data: DataFiles;
  private readonly decoded = new DecodedFiles<StoredRun>();
  private readonly snapshots = new DecodedFiles<Run>();
  private readonly eventTails = new EventTails();
  private readonly writes: RunWrites;
  private trashEmptied = false;
  /** Spool files of local steps (decision 0024). */
  readonly spoolDir: string;

  constructor(readonly layout: Layout, private readonly sync: boolean) {
    this.spoolDir = `${layout.root}/spool`;
    this.index = new RunIndex(layout.index, sync);
    this.writes = new RunWrites(layout, this.index, sync);
    this.locks = new LockFiles(layout, sync);
    this.tokens = new TokenFiles(layout, sync);
    this.workerTokens = new WorkerTokenFiles(layout, sync);
    this.leases = new LeaseFiles(layout, sync);
    this.data = new DataFiles(layout.root, sync);
  }

  createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    return promised(() => this.writes.create(first, summary, snapshot));
  }

  append(request: AppendRequest): Promise<void> {
    return promised(() => this.writes.append(request));
  }

  loadRun(runId: string): Promise<StoredRun | undefined> {
    return promised(() => {
      if (!isRunId(runId)) return undefined;
      const files = [this.layout.snapshot(runId), this.layout.events(runId)];
      return this.decoded.get(runId, files, () => {
        // A running run's events change far more often than its snapshot: decoded once.
        const snapshot = this.snapshots.get(runId, [files[0]], () => {
          const text = readTextIfExists(files[0]);
          return text === undefined ? undefined : decodeRun(text);
        });
        if (snapshot === undefined) return undefined;
        const tail = this.eventTails.read(runId, files[1], snapshot.revision, decodeEvent);
        return { snapshot, tail: tail ?? [] };
      });
    });
  }

  readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]> {
    return promised(() => {
      if (!isRunId(runId)) throw new StoreNotFound(runId);
      const events = readAfter(this.layout.events(runId), {
        afterSeq,
        limit,
        accept: decodeEvent,
      });
      if (!events) throw new StoreNotFound(runId);
      return events;
    });
  }

  findRunIds(prefix: string, limit: number): Promise<string[]> {
    return promised(() => {
      if (limit <= 0 || !/^[0-9A-Za-z_-]*$/.test(prefix)) return [];
      const shards = prefix.length >= 2 ? [prefix.slice(0, 2)] : this.shardsStartingWith(prefix);
      const out: string[] = [];
      for (const shard of shards) {
        try {
          for (const entry of Deno.readDirSync(this.layout.shard(shard))) {
            if (!entry.isDirectory || !entry.name.startsWith(prefix) || !isRunId(entry.name)) {
              continue;
            }
            out.push(entry.name);
            if (out.length >= limit) return out;
          }
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      return out;
    });
  }

  private shardsStartingWith(prefix: string): string[] {
    const out: string[] = [];
    for (const entry of Deno.readDirSync(this.layout.runs)) {
      if (entry.isDirectory && entry.name.startsWith(prefix)) out.push(entry.name);
    }
    return out.sort();
  }

  listRuns(query: ListQuery): Promise<ListPage> {
    return promised(() => listRuns(this.index, (id) => this.readSummary(id), query));
  }

  listActiveRuns(): Promise<RunSummary[]> {
    return promised(() => {
      const found: SummaryFile[] = [];
      for (const entry of Deno.readDirSync(this.layout.active)) {
        const summary = isRunId(entry.name) ? this.readSummary(entry.name) : undefined;
        if (summary && isActive(summary.summary.status)) found.push(summary);
      }
      return found.map((f) => f.summary)
        .sort((a, b) => createMs(b) - createMs(a) || b.id.localeCompare(a.id));
    });
  }

  private readSummary(runId: string): SummaryFile | undefined {
    if (!isRunId(runId)) return undefined;
    const text = readTextIfExists(this.layout.summary(runId));
    return text === undefined ? undefined : decodeSummaryFile(text);
  }

  appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]> {
    return promised(() => {
      const file = this.writes.openRunFile(runId, this.layout.logs(runId), true);
      try {
        file.lockSync(true);
        if (!exists(this.layout.run(runId))) throw new StoreNotFound(runId);
        const tail = readTail(file);
        const seqs = lines.map((_, i) => tail.lastSeq + BigInt(i + 1));
        appendLines(file, tail, lines.map((l, i) => encodeLogLine(l, seqs[i])), this.sync);
        return seqs;
      } finally {
        file.close();
      }
    });
  }

  readLogs(
    runId: string,
    afterSeq: bigint,
    limit: number,
    stepId?: string,
  ): Promise<LogLine[]> {
    return promised(() => {
      if (!isRunId(runId)) throw new StoreNotFound(runId);
      const lines = readAfter(this.layout.logs(runId), {
        afterSeq,
        limit,
        accept: (json) =>
          stepId !== undefined && ((json as { stepId?: string }).stepId ?? "") !== stepId
            ? undefined
            : decodeLogLine(json),
      });
      if (lines) return lines;
      if (exists(this.layout.run(runId))) return [];
      throw new StoreNotFound(runId);
    });
  }

  tryAcquireLock(name: string, runId: string): Promise<LockResult> {
    return this.locks.tryAcquire(name, runId);
  }

  releaseLock(name: string, runId: string): Promise<boolean> {
    return this.locks.release(name, runId);
  }

  releaseLocks(runId: string): Promise<string[]> {
    return this.locks.releaseAll(runId);
  }

  listLocks(): Promise<LockHolder[]> {
    return this.locks.list();
  }

  pruneRun(runId: string, rule: PruneRule): Promise<PrunedRun | undefined> {
    return promised(() => {
      if (!this.trashEmptied) {
        emptyTrash(this.layout);
        this.trashEmptied = true;
      }
      const parts = {
        layout: this.layout,
        locks: this.locks,
        leases: this.leases,
        sync: this.sync,
      };
      return pruneRunFiles(parts, runId, rule);
    });
  }

  createApiToken(record: StoredApiToken): Promise<void> {
    return this.tokens.create(record);
  }

  getApiToken(name: string): Promise<StoredApiToken | undefined> {
    return this.tokens.get(name);
  }

  listApiTokens(): Promise<StoredApiToken[]> {
    return this.tokens.list();
  }

  revokeApiToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredApiToken; changed: boolean } | undefined> {
    return this.tokens.revoke(name, time);
  }

  createWorkerToken(record: StoredWorkerToken): Promise<void> {
    return this.workerTokens.create(record);
  }

  getWorkerToken(name: string): Promise<StoredWorkerToken | undefined> {
    return this.workerTokens.get(name);
  }

  listWorkerTokens(): Promise<StoredWorkerToken[]> {
    return this.workerTokens.list();
  }

  revokeWorkerToken(
    name: string,
    time: Date,
  ): Promise<{ record: StoredWorkerToken; changed: boolean } | undefined> {
    return this.workerTokens.revoke(name, time);
  }

  bindWorkerToken(
    name: string,
    machineId: string,
    time: Date,
  ): Promise<WorkerTokenBinding | undefined> {
    return this.workerTokens.bind(name, machineId, time);
  }
  acquireLease(request: AcquireLease): Promise<Lease> {
    return this.leases.acquire(request);
  }

  getLease(id: string): Promise<Lease | undefined> {
    return this.leases.get(id);
  }

  renewLeases(workerId: string, ids: readonly string[], expireTime: Date): Promise<string[]> {
    return this.leases.renew(workerId, ids, expireTime);
  }

  markLeaseWritten(id: string): Promise<boolean> {
    return this.leases.update(id, (lease) => lease.hasWritten = true, true);
  }

  releaseLease(id: string): Promise<boolean> {
    return this.leases.update(id, (lease) => lease.state = "released");
  }

  // Data items live under data/, apart from the runs: pruning a run leaves them.
  putData: RunStore["putData"] = (draft) => this.data.put(draft);
  getData: RunStore["getData"] = (model, name, version) => this.data.get(model, name, version);
  listDataVersions: RunStore["listDataVersions"] = (model, name) => this.data.versions(model, name);
  listData: RunStore["listData"] = (query) => this.data.list(query);

  listLeases(
    filter?: { runId?: string; workerId?: string; activeOnly?: boolean },
  ): Promise<Lease[]> {
    return this.leases.list(filter);
  }

  watchRun(runId: string, onChange: () => void): () => void {
    if (!isRunId(runId)) throw new StoreNotFound(runId);
    return watchRunFiles(this.layout.run(runId), onChange);
  }

  flushed(runId: string): Promise<void> {
    return this.writes.flushes.flushed(runId);
  }

  async close(): Promise<void> {
    this.leases.close(); // the only file held open between calls
    await this.writes.flushes.settle();
  }
}

function createMs(summary: RunSummary): number {
  return summary.createTime ? timestampMs(summary.createTime) : 0;
}
