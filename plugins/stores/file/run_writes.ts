// A file store's run writes (mod.ts has the rest): creating a run's directory
// all at once, and appending its events under the events file's lock, with
// the summary, index status, active marker and snapshot that follow them, and
// the flushes the flush policy asks for (decision records 0006, 0034).
import { clone, equals } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { type Run, type RunSummary, RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  type AppendRequest,
  checkAppend,
  checkNewRun,
  StoreConflict,
  StoreNotFound,
} from "../../../runtime/mod.ts";
import { decodeSummaryFile, encodeEvent, encodeRun, encodeSummaryFile, isActive } from "./codec.ts";
import { BackgroundFlushes } from "./background_flush.ts";
import { type KnownSummary, KnownTails, leftAsIs } from "./known_tails.ts";
import {
  exists,
  readTextIfExists,
  removeIfExists,
  syncDir,
  writeFileAtomic,
  writeNewFile,
} from "./fsio.ts";
import { needsFlush } from "./flush_policy.ts";
import { type RunIndex, workflowHash } from "./index_file.ts";
import { appendLines, readTail } from "./jsonl.ts";
import { isRunId, type Layout } from "./paths.ts";

export class RunWrites {
  private readonly knownTails = new KnownTails();
  /** Flushes of appends made with flushLater, off the writer's path. */
  readonly flushes = new BackgroundFlushes();

  constructor(
    private readonly layout: Layout,
    private readonly index: RunIndex,
    private readonly sync: boolean,
  ) {}

  /** Creates the run's directory with its first event, snapshot and summary, all or nothing. */
  create(first: RunEvent, summary: RunSummary, snapshot: Run): void {
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

  /** Appends under the events file's lock; summary and snapshot follow the event lines. */
  append(request: AppendRequest): void {
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
  openRunFile(runId: string, path: string, create = false): Deno.FsFile {
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
}

/** summary.json as it is on disk, if it is there. */
function readKnownSummary(path: string): KnownSummary | undefined {
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  return { text, ...decodeSummaryFile(text) };
}
