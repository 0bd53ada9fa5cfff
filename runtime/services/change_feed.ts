import { clone, create } from "@bufbuild/protobuf";
import {
  type LogLine,
  LogLineSchema,
  type RunEvent,
  RunEventSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import type { AppendRequest, RunStore } from "../ports/store.ts";

/** What changed in a run: its events or its log. */
export type ChangeKind = "events" | "logs";

/** How many recent events and log lines are kept per run, and for how many runs. */
const keptPerRun = 4096;
const keptRuns = 512;

/**
 * Tells waiters in this process that a run changed, the moment a writer in
 * this process has stored the change, and keeps the recent events and log
 * lines it wrote, so many followers of one run are served from memory
 * instead of each reading the store. Writers in other processes reach it
 * through the store's subscribe() where the store has one (connectFeed);
 * otherwise followers poll the store for them. What is kept here is only ever a contiguous
 * run of sequence numbers, so a follower can tell when it must read the store.
 */
export class ChangeFeed {
  private waiters = new Map<string, Set<() => void>>();
  private recent = new Map<string, { events: RunEvent[]; logs: LogLine[] }>();
  private versions = new Map<string, number>();
  /** Bumped by notifyAll: every version moves with it. */
  private epoch = 0;

  /**
   * How many changes of that kind `runId` has had. A reader takes it before
   * it reads and passes it to wait(), so a change stored in between is not
   * slept through.
   */
  version(runId: string, kind: ChangeKind = "events"): number {
    return (this.versions.get(`${kind}:${runId}`) ?? 0) + this.epoch;
  }

  /**
   * Anything may have changed (a store's change channel was down and is
   * back): every waiter wakes and every version moves, so readers read again.
   */
  notifyAll(): void {
    this.epoch++;
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiting of all) for (const wake of waiting) wake();
  }

  notify(runId: string, kind: ChangeKind = "events"): void {
    const key = `${kind}:${runId}`;
    // Read before the delete (which moves the key to the newest end): the count must grow.
    const next = (this.versions.get(key) ?? 0) + 1;
    this.versions.delete(key);
    this.versions.set(key, next);
    if (this.versions.size > keptRuns * 4) this.versions.delete(this.versions.keys().next().value!);
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    this.waiters.delete(key);
    for (const wake of waiting) wake();
  }

  /**
   * Resolves at the next change of that kind to `runId`, after `timeoutMs`,
   * or when `signal` aborts; at once if the run changed since version `since`.
   */
  wait(
    runId: string,
    timeoutMs: number,
    signal?: AbortSignal,
    kind: ChangeKind = "events",
    since?: number,
  ): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    if (since !== undefined && this.version(runId, kind) !== since) return Promise.resolve();
    const key = `${kind}:${runId}`;
    return new Promise((resolve) => {
      let waiting = this.waiters.get(key);
      if (!waiting) this.waiters.set(key, waiting = new Set());
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const set = this.waiters.get(key);
        set?.delete(done);
        if (set?.size === 0) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      waiting.add(done);
    });
  }

  /** How many waiters are parked (for tests and the server's status). */
  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /**
   * Keeps and announces what a write just stored for `runId`. `own`: the
   * events are this feed's alone (copies that crossed from another thread),
   * so they are kept as they are.
   */
  stored(runId: string, events: RunEvent[], lines: LogLine[], own = false): void {
    if (events.length > 0) {
      if (own) remember(this.kept(runId).events, events);
      else this.rememberEvents(runId, events);
      this.notify(runId, "events");
    }
    if (lines.length > 0) {
      this.rememberLogs(runId, lines);
      this.notify(runId, "logs");
    }
  }

  /**
   * Keeps events just stored for `runId`, as copies: a writer's record may
   * share parts with the events it folded and change them later.
   */
  rememberEvents(runId: string, events: RunEvent[]): void {
    remember(this.kept(runId).events, events.map((event) => clone(RunEventSchema, event)));
  }

  /** Keeps log lines just stored for `runId` (with their seqs set). */
  rememberLogs(runId: string, lines: LogLine[]): void {
    remember(this.kept(runId).logs, lines);
  }

  /**
   * Events with seq > afterSeq from memory, at most `limit`: undefined unless
   * memory holds the very next one (then the store must be read).
   */
  eventsAfter(runId: string, afterSeq: bigint, limit: number): RunEvent[] | undefined {
    return after(this.recent.get(runId)?.events, afterSeq, limit);
  }

  /** Log lines with seq > afterSeq from memory, as eventsAfter; filtered to one step when given. */
  logsAfter(
    runId: string,
    afterSeq: bigint,
    limit: number,
    stepId?: string,
  ): LogLine[] | undefined {
    const lines = after(this.recent.get(runId)?.logs, afterSeq, Number.MAX_SAFE_INTEGER);
    if (!lines) return undefined;
    const wanted = stepId === undefined ? lines : lines.filter((l) => l.stepId === stepId);
    return wanted.slice(0, limit);
  }

  private kept(runId: string) {
    let kept = this.recent.get(runId);
    if (kept) {
      // Most recently written last, so the oldest run is dropped first.
      this.recent.delete(runId);
    } else {
      kept = { events: [], logs: [] };
    }
    this.recent.set(runId, kept);
    if (this.recent.size > keptRuns) this.recent.delete(this.recent.keys().next().value!);
    return kept;
  }
}

/** Appends `items` to `kept` when they follow on; otherwise starts again from them. */
function remember<T extends { seq: bigint }>(kept: T[], items: T[]): void {
  if (items.length === 0) return;
  const last = kept.at(-1);
  if (!last || items[0].seq !== last.seq + 1n) kept.length = 0;
  kept.push(...items);
  if (kept.length > keptPerRun) kept.splice(0, kept.length - keptPerRun);
}

function after<T extends { seq: bigint }>(
  kept: T[] | undefined,
  afterSeq: bigint,
  limit: number,
): T[] | undefined {
  if (!kept || kept.length === 0) return undefined;
  const first = kept[0].seq;
  const last = kept.at(-1)!.seq;
  // Only a contiguous continuation counts: a gap means another process wrote in between.
  if (afterSeq + 1n < first || afterSeq >= last) return undefined;
  const start = Number(afterSeq + 1n - first);
  return kept.slice(start, start + limit);
}

/** What a store wrapped by observeWrites reports after each successful write. */
export type OnStored = (runId: string, events: RunEvent[], lines: LogLine[]) => void;

/**
 * `store`, reporting to `onStored` what each successful write stored: the
 * events of a createRun or append, the log lines of appendLogs with the seqs
 * the store gave them. A failed write reports nothing.
 */
export function observeWrites(store: RunStore, onStored: OnStored): RunStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "createRun") {
        return async (first: RunEvent, ...rest: unknown[]) => {
          await value.call(target, first, ...rest);
          onStored(first.runId, [first], []);
        };
      }
      if (property === "append") {
        return async (request: AppendRequest) => {
          await value.call(target, request);
          onStored(request.runId, request.events, []);
        };
      }
      if (property === "appendLogs") {
        return async (runId: string, lines: LogLine[]) => {
          const seqs: bigint[] = await value.call(target, runId, lines);
          onStored(
            runId,
            [],
            lines.map((line, i) => create(LogLineSchema, { ...line, seq: seqs[i] })),
          );
          return seqs;
        };
      }
      return value.bind(target);
    },
  });
}

/** `store`, announcing (and keeping) every run change it stores on `feed`. */
export function observedStore(store: RunStore, feed: ChangeFeed): RunStore {
  return observeWrites(store, (runId, events, lines) => feed.stored(runId, events, lines));
}
