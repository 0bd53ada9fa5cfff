import { create } from "@bufbuild/protobuf";
import { LockChangedSchema, WaitingChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { WaitingSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft, RunJournal } from "../run/journal.ts";
import type { EngineDeps } from "./deps.ts";

/**
 * The locks one run holds. Locks are per run, so steps of the same run that
 * act on the same model share it; all are released when the run ends.
 * A step that waits for a lock held by another run says so (and who holds
 * it) until it gets it.
 */
export class LockKeeper {
  private readonly holds = new Set<string>();

  constructor(private readonly deps: EngineDeps, private readonly journal: RunJournal) {}

  /**
   * Waits until the run holds `name`. `stopWhen`, checked against a fresh
   * record on every try, ends the wait early (a cancel of a run that is still
   * waiting for its own locks); then it returns false.
   */
  async acquire(
    name: string,
    stepId: string,
    signal: AbortSignal,
    stopWhen?: (run: Run) => boolean,
  ): Promise<boolean> {
    if (this.holds.has(name)) return true;
    const runId = this.journal.run.id;
    let shownHolder = "";
    for (;;) {
      signal.throwIfAborted();
      if (stopWhen) {
        await this.journal.refresh();
        if (stopWhen(this.journal.run)) return false;
      }
      // Locks are the run's, whoever owns it: a replaced owner takes none.
      this.journal.assertOwner();
      const result = await this.deps.store.tryAcquireLock(name, runId);
      if (result.acquired) break;
      const holder = result.holder.runId;
      if (await this.deps.reapIfAbandoned?.(holder)) continue;
      if (holder !== shownHolder) {
        shownHolder = holder;
        await this.journal.append({
          reason: `waiting for lock ${name} held by run ${holder}`,
          payload: {
            case: "waitingChanged",
            value: create(WaitingChangedSchema, {
              stepId,
              waiting: create(WaitingSchema, {
                on: { case: "lock", value: name },
                holderRunId: holder,
              }),
            }),
          },
        });
      }
      await sleep(this.deps.pollMs, signal);
    }
    const first = !this.holds.has(name);
    this.holds.add(name);
    const drafts = [];
    if (shownHolder) {
      drafts.push({
        payload: {
          case: "waitingChanged" as const,
          value: create(WaitingChangedSchema, { stepId, waiting: create(WaitingSchema, {}) }),
        },
      });
    }
    if (first) {
      drafts.push({
        payload: {
          case: "lockChanged" as const,
          value: create(LockChangedSchema, { lock: name, held: true }),
        },
      });
    }
    if (drafts.length > 0) await this.journal.append(...drafts);
    return true;
  }

  /** Releases everything the run still holds (at its end, whatever the end). */
  async releaseAll(): Promise<void> {
    const drafts = await this.release();
    if (drafts.length > 0) await this.journal.append(...drafts);
  }

  /**
   * Releases everything the run still holds in the store; returns the events
   * that record it, for the caller to write (with the run's end, say).
   */
  async release(): Promise<EventDraft[]> {
    // A release is not a conditional append, so the log is read first: an
    // owner replaced since its last look must not free its successor's locks.
    await this.journal.refresh();
    this.journal.assertOwner();
    this.holds.clear();
    const released = await this.deps.store.releaseLocks(this.journal.run.id);
    return released.map((lock) => ({
      payload: {
        case: "lockChanged" as const,
        value: create(LockChangedSchema, { lock, held: false }),
      },
    }));
  }
}

/** Waits `ms`, or less if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
