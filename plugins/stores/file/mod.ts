// The file store: runs as plain files under a repository's `.swamp`
// directory (layout in paths.ts). Every write that two processes could race
// happens under an exclusive file lock (flock): the run's events.jsonl for
// appends, logs.jsonl for log lines, the run index for creation. An append
// costs a tail read and a few lines written, whatever the size of the run.
// API tokens and worker enrollment tokens live beside the runs (tokens.ts,
// worker_tokens.ts).
import { clone, equals } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { LogLine, RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { type Run, type RunSummary, RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
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
  StoreConflict,
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
  encodeEvent,
  encodeLogLine,
  encodeRun,
  encodeSummaryFile,
  isActive,
  type SummaryFile,
} from "./codec.ts";
import { BackgroundFlushes } from "./background_flush.ts";
import { DataFiles } from "./data.ts";
import { EventTails } from "./event_tails.ts";
import { DecodedFiles } from "./decoded_files.ts";
import { type KnownSummary, KnownTails, leftAsIs } from "./known_tails.ts";
import { LeaseFiles } from "./leases.ts";
import {
  exists,
  promised,
  readTextIfExists,
  removeIfExists,
  syncDir,
  writeFileAtomic,
  writeNewFile,
} from "./fsio.ts";
import { needsFlush } from "./flush_policy.ts";
import { RunIndex, workflowHash } from "./index_file.ts";
import { appendLines, readAfter, readTail } from "./jsonl.ts";
import { listRuns } from "./listing.ts";
import { LockFiles } from "./locks.ts";
import { isRunId, Layout } from "./paths.ts";
import { emptyTrash, pruneRunFiles } from "./prune.ts";
import { watchRunFiles } from "./run_watch.ts";
import { TokenFiles } from "./tokens.ts";
import { WorkerTokenFiles } from "./worker_tokens.ts";

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
  private readonly knownTails = new KnownTails();
  private readonly flushes = new BackgroundFlushes();
  private trashEmptied = false;
  /** Spool files of local steps (decision 0024). */
  readonly spoolDir: string;

  constructor(readonly layout: Layout, private readonly sync: boolean) {
    this.spoolDir = `${layout.root}/spool`;
    this.index = new RunIndex(layout.index, sync);
    this.locks = new LockFiles(layout, sync);
    this.tokens = new TokenFiles(layout, sync);
    this.workerTokens = new WorkerTokenFiles(layout, sync);
    this.leases = new LeaseFiles(layout, sync);
    this.data = new DataFiles(layout.root, sync);
  }

  createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    return promised(() => this.createNow(first, summary, snapshot));
  }

  private createNow(first: RunEvent, summary: RunSummary, snapshot: Run): void {
    const id = summary.id;
    if (!isRunId(id)) throw new Error(`run id "${id}" is not a UUID`);
    checkNewRun(first, summary, snapshot);
    if (exists(this.layout.run(id))) throw this.alreadyExists(id);
    // Build the run beside its final place, then rename it in: readers see all or nothing.
    const shard = this.layout.shard(id);
    Deno.mkdirSync(shard, { recursive: true });
    const staging = this.layout.stagingRun(id);
    Deno.mkdirSync(staging);
    try {
      writeNewFile(`${staging}/events.jsonl`, encodeEvent(first) + "\n", this.sync);
      writeNewFile(`${staging}/snapshot.json`, encodeRun(snapshot) + "\n", this.sync);
      const entry = {
        status: summary.status,
        createMs: summary.createTime ? timestampMs(summary.createTime) : Date.now(),
        workflowHash: workflowHash(summary.workflowName),
        runId: id,
      };
      this.index.insert(entry, (slot) => {
        if (exists(this.layout.run(id))) throw this.alreadyExists(id);
        writeNewFile(`${staging}/summary.json`, encodeSummaryFile(slot, summary), this.sync);
      }, () => {
        if (isActive(summary.status)) Deno.writeTextFileSync(this.layout.activeMarker(id), "");
        Deno.renameSync(staging, this.layout.run(id));
        if (this.sync) syncDir(shard);
      });
    } catch (error) {
      try {
        Deno.removeSync(staging, { recursive: true });
      } catch {
        // already gone
      }
      throw error;
    }
  }

  private alreadyExists(id: string): StoreConflict {
    const file = Deno.openSync(this.layout.events(id), { read: true });
    try {
      return new StoreConflict(id, 0n, readTail(file).lastSeq);
    } finally {
      file.close();
    }
  }

  append(request: AppendRequest): Promise<void> {
    return promised(() => this.appendNow(request));
  }

  private appendNow(request: AppendRequest): void {
    const { runId, expectedSeq, events } = request;
    checkAppend(request);
    const file = this.openRunFile(runId, this.layout.events(runId));
    // Forgotten until the append is whole: a write that fails half-way leaves files this process does not know.
    const known = this.knownTails.take(runId);
    try {
      // Held only across synchronous calls: no other work of this process can
      // interleave and ask for the same lock.
      file.lockSync(true);
      // Pruned while this writer waited for the lock (prune.ts renames the run away under it).
      if (!exists(this.layout.run(runId))) throw new StoreNotFound(runId);
      const stat = file.statSync();
      const left = leftAsIs(known, stat);
      const tail = left?.tail ?? readTail(file, stat.size);
      if (tail.lastSeq !== expectedSeq) throw new StoreConflict(runId, expectedSeq, tail.lastSeq);
      // The event lines are the commit point; summary and snapshot follow and
      // are repaired by the next append if a crash comes in between.
      const flush = this.sync && needsFlush(events);
      const later = flush && request.flushLater === true;
      // A step's end that never reached the disk: the run's next flushed write says so, not later.
      const failed = flush && !later ? this.flushes.takeFailure(runId) : undefined;
      if (failed !== undefined) throw failed;
      const size = appendLines(file, tail, events.map(encodeEvent), flush && !later);
      if (later) this.flushes.schedule(runId, this.layout.events(runId));
      const summary = this.replaceSummary(runId, request.summary, left?.summary);
      if (request.snapshot) {
        writeFileAtomic(this.layout.snapshot(runId), encodeRun(request.snapshot), this.sync);
      }
      this.knownTails.remember(runId, stat.ino, size, events.at(-1)!.seq, summary);
    } finally {
      file.close(); // also releases the lock
    }
  }

  /** Opens a run's file for locked appends; StoreNotFound when the run does not exist. */
  private openRunFile(runId: string, path: string, create = false): Deno.FsFile {
    if (!isRunId(runId) || (create && !exists(this.layout.run(runId)))) {
      throw new StoreNotFound(runId);
    }
    try {
      return Deno.openSync(path, { read: true, append: true, create });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new StoreNotFound(runId);
      throw error;
    }
  }

  /**
   * Rewrites summary.json (and the index status and active marker) only when
   * it changed; returns it as written. `known` is the file as it is, when known.
   */
  private replaceSummary(runId: string, summary: RunSummary, known?: KnownSummary): KnownSummary {
    const path = this.layout.summary(runId);
    const current = known ?? readKnownSummary(path);
    // Most appends change nothing listed: compared as messages, not encoded to find out.
    if (current && equals(RunSummarySchema, current.summary, summary)) return current;
    const slot = current?.slot ?? -1;
    const text = encodeSummaryFile(slot, summary);
    // A copy: the caller's message shares parts (times, waiting) with its run record.
    const written = { text, slot, summary: clone(RunSummarySchema, summary) };
    if (text === current?.text) return written;
    const was = current?.summary.status;
    const now = summary.status;
    const marker = this.layout.activeMarker(runId);
    // Marker added before and removed after the summary: a crash leaves a
    // false positive (filtered on read), never a run missing from the list.
    if (isActive(now) && (was === undefined || !isActive(was))) {
      Deno.writeTextFileSync(marker, "");
    }
    writeFileAtomic(path, text, this.sync);
    if (slot >= 0 && was !== now) this.index.setStatus(slot, runId, now);
    if (!isActive(now) && (was === undefined || isActive(was))) removeIfExists(marker);
    return written;
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
      const file = this.openRunFile(runId, this.layout.logs(runId), true);
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
    return this.flushes.flushed(runId);
  }

  async close(): Promise<void> {
    this.leases.close(); // the only file held open between calls
    await this.flushes.settle();
  }
}

function createMs(summary: RunSummary): number {
  return summary.createTime ? timestampMs(summary.createTime) : 0;
}

/** summary.json as it is on disk, if it is there. */
function readKnownSummary(path: string): KnownSummary | undefined {
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  return { text, ...decodeSummaryFile(text) };
}
