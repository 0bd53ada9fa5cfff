// The file store: runs as plain files under a repository's `.swamp`
// directory (layout in paths.ts). Every write that two processes could race
// happens under an exclusive file lock (flock): the run's events.jsonl for
// appends, logs.jsonl for log lines, the run index for creation. An append
// costs a tail read and a few lines written, whatever the size of the run.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { LogLine, RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  type AppendRequest,
  type ListPage,
  type ListQuery,
  type LockHolder,
  type LockResult,
  type RunStore,
  StoreConflict,
  type StoredRun,
  StoreNotFound,
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
import {
  exists,
  readTextIfExists,
  removeIfExists,
  syncDir,
  writeFileAtomic,
  writeNewFile,
} from "./fsio.ts";
import { RunIndex, workflowHash } from "./index_file.ts";
import { appendLines, readAfter, readTail } from "./jsonl.ts";
import { listRuns } from "./listing.ts";
import { LockFiles } from "./locks.ts";
import { isRunId, Layout } from "./paths.ts";

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
  for (const dir of [layout.runs, layout.active, layout.lockTemp]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  return new FileRunStore(layout, options.fsync ?? true);
}

class FileRunStore implements RunStore {
  private readonly index: RunIndex;
  private readonly locks: LockFiles;

  constructor(private readonly layout: Layout, private readonly sync: boolean) {
    this.index = new RunIndex(layout.index, sync);
    this.locks = new LockFiles(layout, sync);
  }

  async createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void> {
    const id = summary.id;
    if (!isRunId(id)) throw new Error(`run id "${id}" is not a UUID`);
    if (first.runId !== id || snapshot.id !== id || first.seq !== 1n) {
      throw new Error(`createRun ${id}: the first event must be seq 1 of the same run`);
    }
    if (await exists(this.layout.run(id))) throw await this.alreadyExists(id);
    // Build the run beside its final place, then rename it in: readers see all or nothing.
    const shard = this.layout.shard(id);
    await Deno.mkdir(shard, { recursive: true });
    const staging = this.layout.stagingRun(id);
    await Deno.mkdir(staging);
    try {
      await writeNewFile(`${staging}/events.jsonl`, encodeEvent(first) + "\n", this.sync);
      await writeNewFile(`${staging}/snapshot.json`, encodeRun(snapshot) + "\n", this.sync);
      const entry = {
        status: summary.status,
        createMs: summary.createTime ? timestampMs(summary.createTime) : Date.now(),
        workflowHash: workflowHash(summary.workflowName),
        runId: id,
      };
      await this.index.insert(entry, async (slot) => {
        if (await exists(this.layout.run(id))) throw await this.alreadyExists(id);
        await writeNewFile(`${staging}/summary.json`, encodeSummaryFile(slot, summary), this.sync);
      }, async () => {
        if (isActive(summary.status)) await Deno.writeTextFile(this.layout.activeMarker(id), "");
        await Deno.rename(staging, this.layout.run(id));
        if (this.sync) await syncDir(shard);
      });
    } catch (error) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  private async alreadyExists(id: string): Promise<StoreConflict> {
    const file = await Deno.open(this.layout.events(id), { read: true });
    try {
      return new StoreConflict(id, 0n, (await readTail(file)).lastSeq);
    } finally {
      file.close();
    }
  }

  async append(request: AppendRequest): Promise<void> {
    const { runId, expectedSeq, events } = request;
    events.forEach((event, i) => {
      if (event.runId !== runId || event.seq !== expectedSeq + BigInt(i + 1)) {
        throw new Error(
          `append to ${runId}: event ${i} must be seq ${expectedSeq + BigInt(i + 1)}`,
        );
      }
    });
    if (request.summary.id !== runId) throw new Error(`append to ${runId}: summary of another run`);
    const file = await this.openRunFile(runId, this.layout.events(runId));
    try {
      await file.lock(true);
      const tail = await readTail(file);
      if (tail.lastSeq !== expectedSeq) throw new StoreConflict(runId, expectedSeq, tail.lastSeq);
      // The event lines are the commit point; summary and snapshot follow and
      // are repaired by the next append if a crash comes in between.
      await appendLines(file, tail, events.map(encodeEvent), this.sync);
      await this.replaceSummary(runId, request.summary);
      if (request.snapshot) {
        await writeFileAtomic(this.layout.snapshot(runId), encodeRun(request.snapshot), this.sync);
      }
    } finally {
      file.close(); // also releases the lock
    }
  }

  /** Opens a run's file for locked appends; StoreNotFound when the run does not exist. */
  private async openRunFile(runId: string, path: string, create = false): Promise<Deno.FsFile> {
    if (!isRunId(runId) || (create && !await exists(this.layout.run(runId)))) {
      throw new StoreNotFound(runId);
    }
    try {
      return await Deno.open(path, { read: true, append: true, create });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new StoreNotFound(runId);
      throw error;
    }
  }

  /** Rewrites summary.json (and the index status and active marker) only when it changed. */
  private async replaceSummary(runId: string, summary: RunSummary): Promise<void> {
    const path = this.layout.summary(runId);
    const currentText = await readTextIfExists(path);
    const current = currentText ? decodeSummaryFile(currentText) : undefined;
    const slot = current?.slot ?? -1;
    const text = encodeSummaryFile(slot, summary);
    if (text === currentText) return;
    const was = current?.summary.status;
    const now = summary.status;
    const marker = this.layout.activeMarker(runId);
    // Marker added before and removed after the summary: a crash leaves a
    // false positive (filtered on read), never a run missing from the list.
    if (isActive(now) && (was === undefined || !isActive(was))) {
      await Deno.writeTextFile(marker, "");
    }
    await writeFileAtomic(path, text, this.sync);
    if (slot >= 0 && was !== now) await this.index.setStatus(slot, runId, now);
    if (!isActive(now) && (was === undefined || isActive(was))) await removeIfExists(marker);
  }

  async loadRun(runId: string): Promise<StoredRun | undefined> {
    if (!isRunId(runId)) return undefined;
    const text = await readTextIfExists(this.layout.snapshot(runId));
    if (text === undefined) return undefined;
    const snapshot = decodeRun(text);
    const tail = await readAfter(this.layout.events(runId), {
      afterSeq: snapshot.revision,
      accept: decodeEvent,
    });
    return { snapshot, tail: tail ?? [] };
  }

  async readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]> {
    if (!isRunId(runId)) throw new StoreNotFound(runId);
    const events = await readAfter(this.layout.events(runId), {
      afterSeq,
      limit,
      accept: decodeEvent,
    });
    if (!events) throw new StoreNotFound(runId);
    return events;
  }

  async findRunIds(prefix: string, limit: number): Promise<string[]> {
    if (limit <= 0 || !/^[0-9A-Za-z_-]*$/.test(prefix)) return [];
    const shards = prefix.length >= 2
      ? [prefix.slice(0, 2)]
      : await this.shardsStartingWith(prefix);
    const out: string[] = [];
    for (const shard of shards) {
      try {
        for await (const entry of Deno.readDir(this.layout.shard(shard))) {
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
  }

  private async shardsStartingWith(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const entry of Deno.readDir(this.layout.runs)) {
      if (entry.isDirectory && entry.name.startsWith(prefix)) out.push(entry.name);
    }
    return out.sort();
  }

  listRuns(query: ListQuery): Promise<ListPage> {
    return listRuns(this.index, (id) => this.readSummary(id), query);
  }

  async listActiveRuns(): Promise<RunSummary[]> {
    const ids: string[] = [];
    for await (const entry of Deno.readDir(this.layout.active)) {
      if (isRunId(entry.name)) ids.push(entry.name);
    }
    const found = await Promise.all(ids.map((id) => this.readSummary(id)));
    return found
      .filter((f): f is SummaryFile => f !== undefined && isActive(f.summary.status))
      .map((f) => f.summary)
      .sort((a, b) => createMs(b) - createMs(a) || b.id.localeCompare(a.id));
  }

  private async readSummary(runId: string): Promise<SummaryFile | undefined> {
    if (!isRunId(runId)) return undefined;
    const text = await readTextIfExists(this.layout.summary(runId));
    return text === undefined ? undefined : decodeSummaryFile(text);
  }

  async appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]> {
    const file = await this.openRunFile(runId, this.layout.logs(runId), true);
    try {
      await file.lock(true);
      const tail = await readTail(file);
      const seqs = lines.map((_, i) => tail.lastSeq + BigInt(i + 1));
      await appendLines(file, tail, lines.map((l, i) => encodeLogLine(l, seqs[i])), this.sync);
      return seqs;
    } finally {
      file.close();
    }
  }

  async readLogs(
    runId: string,
    afterSeq: bigint,
    limit: number,
    stepId?: string,
  ): Promise<LogLine[]> {
    if (!isRunId(runId)) throw new StoreNotFound(runId);
    const lines = await readAfter(this.layout.logs(runId), {
      afterSeq,
      limit,
      accept: (json) =>
        stepId !== undefined && ((json as { stepId?: string }).stepId ?? "") !== stepId
          ? undefined
          : decodeLogLine(json),
    });
    if (lines) return lines;
    if (await exists(this.layout.run(runId))) return [];
    throw new StoreNotFound(runId);
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

  close(): Promise<void> {
    return Promise.resolve(); // nothing is held open between calls
  }
}

function createMs(summary: RunSummary): number {
  return summary.createTime ? timestampMs(summary.createTime) : 0;
}
