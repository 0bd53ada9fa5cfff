import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type RunEvent, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { ActorKind, type Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { type RunStore, StoreConflict } from "../ports/store.ts";
import { applyEvent, foldEvents, summarize } from "./fold.ts";
import { ownerEpochOf, OwnershipLost } from "./fencing.ts";
import { claimedEpoch, foldPreview, refuseLostWrites } from "./journal_rules.ts";
import { stillApplicable } from "./preconditions.ts";
import { isSettledRun } from "./status.ts";
import type { SecretMask } from "../text/secret_mask.ts";

/** swamp's own writes are `system`; any other name's kind is known only to whoever opened the journal. */
function kindOf(actor: string): ActorKind {
  return actor === "system" ? ActorKind.SYSTEM : ActorKind.UNSPECIFIED;
}

/** An event before it has a place in the log. */
export interface EventDraft {
  payload: RunEvent["payload"];
  reason?: string;
  /** Defaults to the journal's actor. */
  actor?: string;
}

/**
 * Decides what to write given the record as it is now. Called again with a
 * fresher record when another writer got in first, so it can re-decide (or
 * return nothing to write).
 */
export type Decide = (run: Run) => EventDraft[] | undefined;

const maxAttempts = 50;

interface PendingWrite {
  decide: Decide;
  /** May be flushed to disk after the append returns (`appendFlushedLater`). */
  flushLater: boolean;
  resolve: (events: RunEvent[]) => void;
  reject: (error: unknown) => void;
}

/**
 * One writer's view of a run: the folded record and its revision, and
 * conditional appends that retry with a fresh record on conflict. Every
 * process that writes a run (owner, cancel, reconcile) goes through one.
 * A journal that claimed the run stamps what it writes with its owner epoch
 * and stops for good once another process has claimed the run since.
 */
export class RunJournal {
  private lastSnapshotSeq: bigint;
  /** Bumped whenever the record object is replaced (after a conflict), so caches of it can be rebuilt. */
  generation = 0;
  /** The owner epoch this writer claimed the run with; 0 while it does not own it. */
  private epoch = 0n;
  /**
   * The run's resolved secrets (set by the engine that executes it): every
   * event this writer appends is masked with it first, so no reason,
   * output, item or error it records carries a secret in plain text.
   */
  mask?: SecretMask;

  constructor(
    readonly store: RunStore,
    private current: Run,
    private readonly clock: Clock,
    readonly actor: string,
    /** How `actor` was identified; recorded on every event it writes. */
    readonly actorKind: ActorKind = kindOf(actor),
  ) {
    this.lastSnapshotSeq = current.revision;
  }

  /** Loads a run's record from the store. */
  static async open(
    store: RunStore,
    runId: string,
    clock: Clock,
    actor: string,
    actorKind: ActorKind = kindOf(actor),
  ): Promise<RunJournal> {
    const stored = await store.loadRun(runId);
    if (!stored) throw new SwampError(ErrorCode.NOT_FOUND, `no run ${runId}`);
    return new RunJournal(
      store,
      foldEvents(stored.snapshot, stored.tail),
      clock,
      actor,
      actorKind,
    );
  }

  get run(): Run {
    return this.current;
  }

  /** The owner epoch this writer holds; 0 when it does not own the run. */
  get ownerEpoch(): bigint {
    return this.epoch;
  }

  /**
   * Throws OwnershipLost when this writer owned the run and the record it
   * has read shows a later claim. Checked before every write, so a replaced
   * owner writes nothing more; callers that only read call it after refresh.
   */
  assertOwner(): void {
    const current = ownerEpochOf(this.current);
    if (this.epoch !== 0n && current > this.epoch) {
      throw new OwnershipLost(this.current.id, this.epoch, current);
    }
  }

  /** Replaces the record with the store's. */
  async reload(): Promise<void> {
    const stored = await this.store.loadRun(this.current.id);
    if (!stored) {
      throw new SwampError(
        ErrorCode.NOT_FOUND,
        `run ${this.current.id} disappeared from the store`,
      );
    }
    this.current = foldEvents(stored.snapshot, stored.tail);
    this.generation++;
  }

  /** Reads events other writers appended since the last look; returns them. */
  async refresh(): Promise<RunEvent[]> {
    const events = await this.store.readEvents(this.current.id, this.current.revision);
    for (const event of events) applyEvent(this.current, event);
    return events;
  }

  /**
   * Writes what `decide` returns; returns the events written (none if it
   * declined). Writes happen in call order. Writes that arrive while an
   * append is in flight are committed together in the next one (a group
   * commit: one store write, one fsync, for many transitions).
   */
  write(decide: Decide, flushLater = false): Promise<RunEvent[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ decide, flushLater, resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  private pending: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;
  /** Drafts kept for this writer's next append (`defer`), oldest first. */
  private deferred: EventDraft[] = [];

  /**
   * Writes `drafts` with this writer's next append, whatever it writes,
   * instead of on their own: one store write fewer, for events a reader can
   * do without until then (a lock taken, whose lock file is the truth; its
   * step's start or end follows at once). Lost with the writer if it dies
   * first, as an unflushed event is (decision record 0034).
   */
  defer(...drafts: EventDraft[]): void {
    this.deferred.push(...drafts);
  }

  /** The deferred drafts put before `drafts`, and how many. */
  private withDeferred(drafts: EventDraft[]): [EventDraft[], number] {
    if (this.deferred.length === 0) return [drafts, 0];
    return [[...this.deferred, ...drafts], this.deferred.length];
  }

  /** Forgets the first `count` deferred drafts: they are written. */
  private written(count: number): void {
    if (count > 0) this.deferred = this.deferred.slice(count);
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const written = await this.commit(batch);
          batch.forEach((write, i) => write.resolve(written[i]));
        } catch (error) {
          batch.forEach((write) => write.reject(error));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Appends the events of a batch of writes as one conditional append; returns each write's events. */
  private commit(batch: PendingWrite[]): Promise<RunEvent[][]> {
    return batch.length === 1
      ? this.commitOne(batch[0]).then((events) => [events])
      : this.commitMany(batch);
  }

  /**
   * One write: decided, appended, and only then applied. A writer that lost a
   * race (a cancel against a busy owner) catches up by reading just the new
   * events, so it does not have to reload a large run on every try.
   */
  private async commitOne(write: PendingWrite): Promise<RunEvent[]> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      this.assertOwner();
      const [drafts, carried] = this.withDeferred(write.decide(this.current) ?? []);
      if (drafts.length === 0) return [];
      const base = this.current.revision;
      const now = timestampFromDate(this.clock.now());
      const [events, epoch] = this.toEvents(drafts, base, now, this.epoch);
      const next = foldPreview(this.current, events);
      const snapshotDue = isSettledRun(next.status) ||
        base + BigInt(events.length) - this.lastSnapshotSeq >=
          BigInt(Math.max(64, this.current.steps.length));
      try {
        if (snapshotDue) {
          for (const event of events) applyEvent(this.current, event);
          await this.store.append({
            runId: this.current.id,
            expectedSeq: base,
            events,
            summary: summarize(this.current),
            snapshot: this.current,
            flushLater: write.flushLater,
          });
          this.lastSnapshotSeq = this.current.revision;
        } else {
          await this.store.append({
            runId: this.current.id,
            expectedSeq: base,
            events,
            summary: next,
            flushLater: write.flushLater,
          });
          for (const event of events) applyEvent(this.current, event);
        }
      } catch (error) {
        if (snapshotDue) await this.reload();
        if (!(error instanceof StoreConflict)) throw error;
        refuseLostWrites(error, base);
        if (!snapshotDue) await this.refresh();
        continue;
      }
      this.epoch = epoch;
      this.written(carried);
      return events.slice(carried);
    }
    throw new SwampError(
      ErrorCode.CONFLICT,
      `run ${this.current.id} kept changing under this writer`,
      {
        hint: "retry the command",
      },
    );
  }

  private async commitMany(batch: PendingWrite[]): Promise<RunEvent[][]> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      this.assertOwner();
      const base = this.current.revision;
      const now = timestampFromDate(this.clock.now());
      const perWrite: RunEvent[][] = [];
      const events: RunEvent[] = [];
      let epoch = this.epoch;
      let carried = 0;
      // Each write decides against the record as the writes before it left
      // it; events are applied in place, so a write costs the same however
      // large the run is. If the append loses a race the record is reloaded.
      for (const write of batch) {
        const decided = write.decide(this.current) ?? [];
        const [drafts, carrying] = events.length === 0 ? this.withDeferred(decided) : [decided, 0];
        carried += carrying;
        const [mine, after] = this.toEvents(drafts, this.current.revision, now, epoch);
        epoch = after;
        for (const event of mine) applyEvent(this.current, event);
        perWrite.push(mine.slice(carrying));
        events.push(...mine);
      }
      if (events.length === 0) return perWrite;
      const next = this.current;
      const snapshotDue = isSettledRun(next.status) ||
        next.revision - this.lastSnapshotSeq >= BigInt(Math.max(64, next.steps.length));
      try {
        await this.store.append({
          runId: next.id,
          expectedSeq: base,
          events,
          summary: summarize(next),
          snapshot: snapshotDue ? next : undefined,
          flushLater: batch.every((write) => write.flushLater),
        });
      } catch (error) {
        await this.reload();
        if (!(error instanceof StoreConflict)) throw error;
        refuseLostWrites(error, base);
        continue;
      }
      if (snapshotDue) this.lastSnapshotSeq = next.revision;
      this.epoch = epoch;
      this.written(carried);
      return perWrite;
    }
    throw new SwampError(
      ErrorCode.CONFLICT,
      `run ${this.current.id} kept changing under this writer`,
      {
        hint: "retry the command",
      },
    );
  }

  /**
   * Events for drafts that follow the event with seq `base`, stamped with
   * the owner epoch held (from a claim among them on); returns the epoch
   * held after them.
   */
  private toEvents(
    drafts: EventDraft[],
    base: bigint,
    time: Timestamp,
    held: bigint,
  ): [RunEvent[], bigint] {
    let epoch = held;
    const events = drafts.map((draft, i) => {
      epoch = claimedEpoch(draft.payload, epoch);
      return create(RunEventSchema, {
        runId: this.current.id,
        seq: base + BigInt(i + 1),
        time,
        actor: draft.actor ?? this.actor,
        actorKind: draft.actor === undefined ? this.actorKind : kindOf(draft.actor),
        reason: this.mask ? this.mask.apply(draft.reason ?? "") : draft.reason ?? "",
        ownerEpoch: epoch,
        payload: this.mask ? this.mask.applyDeep(draft.payload) : draft.payload,
      });
    });
    return [events, epoch];
  }

  /**
   * Writes drafts made from the record as the caller last read it. Each
   * status transition among them is written only if what it changes is
   * still in the state it names as `from`, checked against the record it
   * is written on (again after a conflict): a transition another writer
   * made moot is dropped, never re-sent, and the caller decides again on
   * its next look. Returns the events written.
   */
  append(...drafts: EventDraft[]): Promise<RunEvent[]> {
    return this.write((run) => stillApplicable(run, drafts));
  }

  /**
   * As `append`, but the store may flush the events to disk after it returns
   * (decision record 0034): for a step's end, whose flush then overlaps
   * deciding and preparing the next step. `flushed` is the barrier.
   */
  appendFlushedLater(...drafts: EventDraft[]): Promise<RunEvent[]> {
    return this.write((run) => stillApplicable(run, drafts), true);
  }

  /** Resolves once everything this writer appended survives a power loss. */
  flushed(): Promise<void> {
    return this.store.flushed?.(this.current.id) ?? Promise.resolve();
  }
}
