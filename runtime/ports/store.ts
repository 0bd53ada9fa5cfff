import type { InstanceRegistry } from "./instances.ts";
import type { LogLine, RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunStatus, RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { TokenStore } from "./tokens.ts";
import type { WorkerTokenStore } from "./worker_tokens.ts";
import type { LeaseStore } from "./leases.ts";
import type { DataStore } from "./data.ts";
import type { PrunedRun, PruneRule } from "./prune.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";

/**
 * Where runs live: each run is an append-only event log (the record is the
 * fold of its events, done by the runtime), an occasional snapshot of the
 * record so reads need not replay everything, a small summary for listings,
 * and a log of the lines its steps printed. Several processes write the same
 * run (its owner, `cancel`, `reconcile`, `approve`), so every append is
 * conditional on the writer having seen the latest event.
 *
 * Costs: an append, a log write and a lock operation are constant-time,
 * whatever the size of the run; listing and prefix lookup never scan every
 * run. Every implementation passes test/contracts/store_contract.ts unchanged.
 *
 * A store also keeps the repository's API tokens (TokenStore) and worker
 * enrollment tokens (WorkerTokenStore), so a server needs one place for all
 * its state, and the data items method calls wrote (DataStore), which outlive
 * the runs: pruning a run leaves its data.
 */
export interface RunStore extends TokenStore, WorkerTokenStore, LeaseStore, DataStore {
  /**
   * A local directory for the spool files local steps write their output to
   * (decision 0024), one subdirectory per run; absent for a store with no
   * place on this host's disk (then steps' output comes through pipes).
   */
  readonly spoolDir?: string;

  /**
   * The registry of `swamp serve` instances, on a store several machines
   * share (PostgreSQL); absent where one host's /proc judges owners (0027).
   */
  readonly instances?: InstanceRegistry;

  /**
   * Creates a run from its first event (seq 1, a `runCreated`), with its
   * summary and an initial snapshot. Throws StoreConflict if the id exists.
   */
  createRun(first: RunEvent, summary: RunSummary, snapshot: Run): Promise<void>;

  /**
   * Appends events to a run if and only if its last event still has
   * `expectedSeq`; the events must carry seqs expectedSeq+1, +2, … in order.
   * `summary` replaces the run's listing entry. `snapshot`, when given, is the
   * full record after these events; the store keeps the latest one (writers
   * send it now and then, not with every append). Throws StoreConflict (with
   * the actual last seq) when another writer got there first; throws
   * StoreNotFound for an unknown run.
   */
  append(request: AppendRequest): Promise<void>;

  /**
   * Optional: resolves once every append made so far to the run survives a
   * power loss, those made with `flushLater` included; rejects if flushing
   * one failed. `close` waits for them too.
   */
  flushed?(runId: string): Promise<void>;

  /** The latest snapshot and every event after it, or undefined for an unknown run. */
  loadRun(runId: string): Promise<StoredRun | undefined>;

  /** Events with seq > afterSeq, in order, at most `limit` (default: all). */
  readEvents(runId: string, afterSeq: bigint, limit?: number): Promise<RunEvent[]>;

  /** Run ids starting with `prefix`, at most `limit`, in no particular order. */
  findRunIds(prefix: string, limit: number): Promise<string[]>;

  /** Summaries, newest created first, filtered, a page at a time. */
  listRuns(query: ListQuery): Promise<ListPage>;

  /** Summaries of every run whose status is not terminal (pending, running, suspended, cancelling). */
  listActiveRuns(): Promise<RunSummary[]>;

  /**
   * Appends log lines for a run and returns the seqs given to them (per run,
   * monotonic from 1). The `seq` of the lines passed in is ignored.
   */
  appendLogs(runId: string, lines: LogLine[]): Promise<bigint[]>;

  /** Log lines with seq > afterSeq, in order, at most `limit`, optionally of one step only. */
  readLogs(runId: string, afterSeq: bigint, limit: number, stepId?: string): Promise<LogLine[]>;

  /**
   * Takes the named lock for a run if it is free (or already this run's).
   * Returns who holds it when it is not free. Locks have no expiry: the
   * runtime releases them when the run stops and reaps them when it finds
   * the holder abandoned.
   */
  tryAcquireLock(name: string, runId: string): Promise<LockResult>;

  /** Releases one lock if `runId` holds it; returns whether it did. */
  releaseLock(name: string, runId: string): Promise<boolean>;

  /** Releases every lock `runId` holds and returns their names. */
  releaseLocks(runId: string): Promise<string[]>;

  /** Every lock held, by name. */
  listLocks(): Promise<LockHolder[]>;

  /**
   * Deletes one ended run whole: its events, snapshot, summary, log lines
   * (approval decisions and gate records are events), its index entries and
   * any lock or lease that still names it. Whether it qualifies
   * (qualifiesForPrune) is decided under the same lock or transaction that
   * appends take, so a run made live again meanwhile (a resume) is never
   * touched. Returns what was freed, or undefined when the run is unknown or
   * does not qualify (nothing changed). A crash at any point leaves the run
   * either whole or gone.
   */
  pruneRun(runId: string, rule: PruneRule): Promise<PrunedRun | undefined>;

  /**
   * Optional: tells `onChange` when any process commits a change to a run
   * (decision 0028), so followers in this process need not poll. `runId`
   * undefined means every run. `onChange(undefined)` means "anything may have
   * changed" (the store's channel was down for a while and is back): read
   * again. Resolves, with a function that ends the subscription, once
   * changes committed from then on are sure to be reported. A store without
   * it is polled.
   */
  subscribe?(runId: string | undefined, onChange: OnStoreChange): Promise<() => void>;

  /**
   * Optional, for a store that cannot report every run's changes but can
   * watch one run (the file store, through the kernel's file watches): calls
   * `onChange` when the run's summary changes (its status, what it waits on),
   * from any process on this host, from the moment it returns, so a follower
   * learns at once that the run ended or stopped and reads its other changes
   * at its own pace. Returns the function that stops it. Throws when the run
   * cannot be watched (then followers poll).
   */
  watchRun?(runId: string, onChange: () => void): () => void;

  close(): Promise<void>;
}

/**
 * A run's events or log changed (undefined: anything may have changed, read
 * again); `seq`, when the store says, is the run's last event seq after it.
 */
export type OnStoreChange = (
  change: { runId: string; kind: "events" | "logs"; seq?: bigint } | undefined,
) => void;

export interface AppendRequest {
  runId: string;
  expectedSeq: bigint;
  events: RunEvent[];
  summary: RunSummary;
  snapshot?: Run;
  /**
   * The store may return once the events are where every process reads them
   * (they survive the writer's crash) and make them survive a power loss in
   * the background; `flushed` is the barrier (decision record 0034). A store
   * without `flushed` ignores it: its appends are durable when they return.
   */
  flushLater?: boolean;
}

export interface StoredRun {
  /** The newest snapshot written; its `revision` is the seq it includes. */
  snapshot: Run;
  /** Events after the snapshot, in order. */
  tail: RunEvent[];
}

export interface ListQuery {
  workflow?: string;
  statuses?: RunStatus[];
  limit: number;
  /** From a previous page's nextCursor. */
  cursor?: string;
}

export interface ListPage {
  runs: RunSummary[];
  /** Empty when there is nothing more. */
  nextCursor: string;
}

export type LockResult = { acquired: true } | { acquired: false; holder: LockHolder };

export interface LockHolder {
  name: string;
  runId: string;
  /** When it was taken, ms since the epoch. */
  since: number;
}

/** A conditional append lost the race: the run's last event is not the one expected. */
export class StoreConflict extends Error {
  constructor(readonly runId: string, readonly expectedSeq: bigint, readonly actualSeq: bigint) {
    super(`run ${runId} moved on: expected last event ${expectedSeq}, found ${actualSeq}`);
    this.name = "StoreConflict";
  }
}

/** The run does not exist in this store. */
export class StoreNotFound extends Error {
  constructor(readonly runId: string) {
    super(`no run ${runId}`);
    this.name = "StoreNotFound";
  }
}

/** What every store checks before creating a run: the first event is seq 1 of that same run. */
export function checkNewRun(first: RunEvent, summary: RunSummary, snapshot: Run): void {
  const id = summary.id;
  if (first.runId !== id || snapshot.id !== id || first.seq !== 1n) {
    throw new Error(`createRun ${id}: the first event must be seq 1 of the same run`);
  }
}

/** What every store checks before an append: the events follow `expectedSeq` in order, of that run. */
export function checkAppend({ runId, expectedSeq, events, summary }: AppendRequest): void {
  for (const [i, event] of events.entries()) {
    const want = expectedSeq + BigInt(i + 1);
    if (event.runId !== runId || event.seq !== want) {
      throw new Error(`append to ${runId}: event ${i} must be seq ${want}`);
    }
  }
  if (summary.id !== runId) throw new Error(`append to ${runId}: summary of another run`);
}

/** A run's place in a listing, newest first: its create time, then its id. */
export interface ListKey {
  createMs: number;
  id: string;
}

/** Newest first: larger create time, then larger id. */
export const newerFirst = (a: ListKey, b: ListKey): number =>
  b.createMs - a.createMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** `createMs:id`, the cursor of stores that page by ListKey. */
export const formatListCursor = (key: ListKey): string => `${key.createMs}:${key.id}`;

/** The ListKey a cursor names; a usage error for anything else. */
export function parseListCursor(cursor: string | undefined): ListKey | undefined {
  if (!cursor) return undefined;
  const colon = cursor.indexOf(":");
  const createMs = Number(cursor.slice(0, colon));
  if (colon < 0 || !Number.isSafeInteger(createMs)) {
    throw new SwampError(ErrorCode.USAGE, `\`${cursor}\` is not a listing cursor`, {
      hint: "pass the nextCursor of a previous listing, unchanged",
    });
  }
  return { createMs, id: cursor.slice(colon + 1) };
}
