import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type RunEvent, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { type RunStore, StoreConflict } from "../ports/store.ts";
import { applyEvent, foldEvents, summarize } from "./fold.ts";
import { isSettledRun } from "./status.ts";

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

/**
 * One writer's view of a run: the folded record and its revision, and
 * conditional appends that retry with a fresh record on conflict. Every
 * process that writes a run (owner, cancel, reconcile) goes through one.
 */
export class RunJournal {
  private lastSnapshotSeq: bigint;
  /** Bumped whenever the record object is replaced (after a conflict), so caches of it can be rebuilt. */
  generation = 0;

  constructor(
    private readonly store: RunStore,
    private current: Run,
    private readonly clock: Clock,
    readonly actor: string,
  ) {
    this.lastSnapshotSeq = current.revision;
  }

  /** Loads a run's record from the store. */
  static async open(
    store: RunStore,
    runId: string,
    clock: Clock,
    actor: string,
  ): Promise<RunJournal> {
    const stored = await store.loadRun(runId);
    if (!stored) throw new SwampError(ErrorCode.NOT_FOUND, `no run ${runId}`);
    return new RunJournal(store, foldEvents(stored.snapshot, stored.tail), clock, actor);
  }

  get run(): Run {
    return this.current;
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
   * declined). Writes from one journal happen one at a time, in call order.
   */
  write(decide: Decide): Promise<RunEvent[]> {
    const result = this.queue.then(() => this.writeNow(decide));
    this.queue = result.then(() => {}, () => {});
    return result;
  }

  private queue: Promise<void> = Promise.resolve();

  private async writeNow(decide: Decide): Promise<RunEvent[]> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const drafts = decide(this.current);
      if (!drafts || drafts.length === 0) return [];
      const now = timestampFromDate(this.clock.now());
      const base = this.current.revision;
      const events = drafts.map((draft, i) =>
        create(RunEventSchema, {
          runId: this.current.id,
          seq: base + BigInt(i + 1),
          time: now,
          actor: draft.actor ?? this.actor,
          reason: draft.reason ?? "",
          payload: draft.payload,
        })
      );
      // Applied in place, so a write costs the same however large the run is;
      // if the append loses a race the record is reloaded from the store.
      for (const event of events) applyEvent(this.current, event);
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
        continue;
      }
      if (snapshotDue) this.lastSnapshotSeq = next.revision;
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

  /** Shorthand for writing drafts that do not depend on the record. */
  append(...drafts: EventDraft[]): Promise<RunEvent[]> {
    return this.write(() => drafts);
  }
}
