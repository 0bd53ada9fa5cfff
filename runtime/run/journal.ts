import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type RunEvent, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { ActorKind, type Run, type RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { type RunStore, StoreConflict } from "../ports/store.ts";
import { applyEvent, foldEvents, summarize } from "./fold.ts";
import { isFencedOff, ownerEpochOf, OwnershipLost } from "./fencing.ts";
import { stillApplicable } from "./preconditions.ts";
import { isSettledRun, isTerminalRun, RunStatus } from "./status.ts";
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

/** The summary a record would have after `events`, without touching the record. */
function foldPreview(run: Run, events: RunEvent[]): RunSummary {
  const shallow = { ...run, owner: run.owner, waiting: run.waiting } as Run;
  const summary = summarize(shallow);
  // The same fencing as applyEvent, so the summary agrees with the record.
  let epoch = ownerEpochOf(run);
  for (const event of events) {
    if (isFencedOff(epoch, event)) continue;
    const p = event.payload;
    if (p.case === "ownerChanged") {
      const claimed = p.value.owner?.epoch ?? 0n;
      if (claimed > epoch) epoch = claimed;
    } else if (p.case === "runStatusChanged") {
      summary.status = p.value.to;
      if (isTerminalRun(p.value.to)) {
        summary.endTime = event.time;
        summary.waiting = undefined;
      } else if (isTerminalRun(p.value.from)) summary.endTime = undefined;
      if (p.value.to === RunStatus.PENDING) summary.waiting = undefined;
    } else if (p.case === "runResumed") {
      summary.attempt = p.value.attempt;
    } else if (p.case === "waitingChanged") {
      summary.waiting = p.value.waiting?.on.case ? p.value.waiting : undefined;
    }
  }
  return summary;
}

interface PendingWrite {
  decide: Decide;
  resolve: (events: RunEvent[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The epoch a draft makes its writer the owner with: an owner (with a
 * process or server identity) whose epoch is above the one held. A journal
 * that writes such an owner is that owner (the claim is its own write).
 */
function claimedEpoch(draft: EventDraft, held: bigint): bigint {
  if (draft.payload.case !== "ownerChanged") return held;
  const owner = draft.payload.value.owner;
  const identified = owner !== undefined && (owner.pid !== 0 || owner.server !== "");
  return identified && owner.epoch > held ? owner.epoch : held;
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
  write(decide: Decide): Promise<RunEvent[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ decide, resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  private pending: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

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
      const drafts = write.decide(this.current) ?? [];
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
          });
          this.lastSnapshotSeq = this.current.revision;
        } else {
          await this.store.append({
            runId: this.current.id,
            expectedSeq: base,
            events,
            summary: next,
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
      return events;
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
      // Each write decides against the record as the writes before it left
      // it; events are applied in place, so a write costs the same however
      // large the run is. If the append loses a race the record is reloaded.
      for (const write of batch) {
        const drafts = write.decide(this.current) ?? [];
        const [mine, after] = this.toEvents(drafts, this.current.revision, now, epoch);
        epoch = after;
        for (const event of mine) applyEvent(this.current, event);
        perWrite.push(mine);
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
        });
      } catch (error) {
        await this.reload();
        if (!(error instanceof StoreConflict)) throw error;
        refuseLostWrites(error, base);
        continue;
      }
      if (snapshotDue) this.lastSnapshotSeq = next.revision;
      this.epoch = epoch;
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
      epoch = claimedEpoch(draft, epoch);
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
}

/**
 * A run's log only grows, so a store that has fewer events than this writer
 * had stored has lost writes it acknowledged (a database restored from a
 * backup, or failed over to a replica that lagged). What the writer did after
 * them is not in the store; it stops rather than decide again from the older
 * record and repeat steps.
 */
function refuseLostWrites(conflict: StoreConflict, stored: bigint): void {
  if (conflict.actualSeq >= stored) return;
  throw new SwampError(
    ErrorCode.CONFLICT,
    `the store lost acknowledged events of run ${conflict.runId}: this writer had stored up to ` +
      `event ${stored}, the store has ${conflict.actualSeq}`,
    {
      hint: "the database lost recent commits (a restore, or a failover to a replica that " +
        "lagged); the run is abandoned: check what its steps did, then resume it",
    },
  );
}
