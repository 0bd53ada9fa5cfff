import { create } from "@bufbuild/protobuf";
import { LockChangedSchema, WaitingChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { WaitingSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft, RunJournal } from "../run/journal.ts";
import type { EngineDeps } from "./deps.ts";

/**
 * The locks one run holds. Locks are per run, so steps of the same run that
 * act on the same model share it. A lock taken for a step (a model lock) is
 * given back when the last step of the run using it ends; one taken for the
 * run itself (a named lock) when the run ends. A step that waits for a lock
 * held by another run says so (and who holds it) until it gets it.
 */
export class LockKeeper {
  private readonly holds = new Set<string>();
  /** Per step lock, the steps of this run using it now. */
  private readonly users = new Map<string, Set<string>>();
  /** The step lock each step uses. */
  private readonly stepLock = new Map<string, string>();
  /**
   * Per lock, the tail of its queue: deciding to take or give back a lock and
   * doing it in the store happen one at a time, so a step never counts on a
   * hold that another step of the run is giving back.
   */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: EngineDeps, private readonly journal: RunJournal) {}

  /**
   * Waits until the run holds `name`, for step `stepId` ("" for the run
   * itself, until it ends). `stopWhen`, checked against a fresh record on
   * every try, ends the wait early (a cancel of a run that is still waiting
   * for its own locks); then it returns false.
   */
  async acquire(
    name: string,
    stepId: string,
    signal: AbortSignal,
    stopWhen?: (run: Run) => boolean,
  ): Promise<boolean> {
    const runId = this.journal.run.id;
    let shownHolder = "";
    let first: boolean;
    for (;;) {
      signal.throwIfAborted();
      if (stopWhen) {
        await this.journal.refresh();
        if (stopWhen(this.journal.run)) return false;
      }
      // Locks are the run's, whoever owns it: a replaced owner takes none.
      this.journal.assertOwner();
      const result = await this.serially(name, async () => {
        if (this.holds.has(name)) {
          this.use(name, stepId);
          return { acquired: true as const, first: false };
        }
        const tried = await this.deps.store.tryAcquireLock(name, runId);
        if (!tried.acquired) return tried;
        this.holds.add(name);
        this.use(name, stepId);
        return { acquired: true as const, first: true };
      });
      if (result.acquired) {
        first = result.first;
        break;
      }
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
    if (!shownHolder) {
      // Written with the step's start (or whatever the run writes next): the
      // lock file is the truth meanwhile (decision record 0034).
      if (first) this.journal.defer(lockChanged(name, true));
      return true;
    }
    // A wait that was shown ends now, for all to see.
    await this.journal.append(
      {
        payload: {
          case: "waitingChanged" as const,
          value: create(WaitingChangedSchema, { stepId, waiting: create(WaitingSchema, {}) }),
        },
      },
      ...(first ? [lockChanged(name, true)] : []),
    );
    return true;
  }

  /**
   * Ends step `stepId`'s use of its lock. `record` writes the step's end
   * with the drafts it is given: the lock's release when no other step of
   * the run uses it. The store lets go only once that is written, so an
   * owner replaced in the meantime (its write refused) frees nothing.
   */
  async stepEnded(
    stepId: string,
    record: (drafts: EventDraft[]) => Promise<unknown>,
  ): Promise<void> {
    const name = this.stepLock.get(stepId);
    if (name === undefined) {
      await record([]);
      return;
    }
    this.stepLock.delete(stepId);
    await this.serially(name, async () => {
      const users = this.users.get(name);
      users?.delete(stepId);
      if ((users && users.size > 0) || !this.holds.has(name)) {
        await record([]);
        return;
      }
      this.users.delete(name);
      this.holds.delete(name);
      await record([lockChanged(name, false)]);
      await this.deps.store.releaseLock(name, this.journal.run.id);
    });
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
    // A step's own release still under way is let finish, so none is recorded twice.
    await Promise.allSettled([...this.queues.values()]);
    // A release is not a conditional append, so the log is read first: an
    // owner replaced since its last look must not free its successor's locks.
    await this.journal.refresh();
    this.journal.assertOwner();
    this.holds.clear();
    this.users.clear();
    this.stepLock.clear();
    const released = await this.deps.store.releaseLocks(this.journal.run.id);
    return released.map((lock) => lockChanged(lock, false));
  }

  private use(name: string, stepId: string): void {
    if (stepId === "") return;
    this.stepLock.set(stepId, name);
    const users = this.users.get(name) ?? new Set<string>();
    users.add(stepId);
    this.users.set(name, users);
  }

  /** Runs `work` after everything queued before it on lock `name`. */
  private serially<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(work);
    const tail = next.catch(() => {});
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return next;
  }
}

function lockChanged(lock: string, held: boolean): EventDraft {
  return {
    payload: { case: "lockChanged" as const, value: create(LockChangedSchema, { lock, held }) },
  };
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
