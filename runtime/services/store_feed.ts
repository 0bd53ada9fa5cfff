import type { RunStore } from "../ports/store.ts";
import { ChangeFeed } from "./change_feed.ts";

/**
 * Connects `feed` to the changes `store` reports from every process (its
 * subscribe(), decision 0028): each one wakes the followers of that run, and
 * "anything may have changed" (the store's channel came back) wakes them all
 * to read again. Resolves with an unsubscribe function once connected, or
 * undefined for a store without subscribe() (followers poll it) or whose
 * channel cannot be opened now (followers poll it meanwhile).
 */
export async function connectFeed(
  store: RunStore,
  feed: ChangeFeed,
): Promise<(() => void) | undefined> {
  if (!store.subscribe) return undefined;
  try {
    const stop = await store.subscribe(undefined, (change) => {
      if (change) feed.notify(change.runId, change.kind);
      else feed.notifyAll();
    });
    live.add(feed);
    // What was read before the subscription took hold may be stale: read again.
    feed.notifyAll();
    return stop;
  } catch {
    return undefined;
  }
}

/** Feeds that a store's subscription keeps up to date. */
const live = new WeakSet<ChangeFeed>();
const feeds = new WeakMap<RunStore, ChangeFeed>();

/**
 * A change feed for a process that does not write the runs it follows (the
 * CLI's watch and logs --follow, with no server): fed by `store`'s
 * subscribe(), made once per store. Undefined for a store without one.
 */
export function storeFeed(store: RunStore): ChangeFeed | undefined {
  if (!store.subscribe) return undefined;
  let feed = feeds.get(store);
  if (!feed) {
    feeds.set(store, feed = new ChangeFeed());
    void connectFeed(store, feed);
  }
  return feed;
}

/**
 * How long a follower waits for a change before it reads the store anyway:
 * short where only polling sees other processes' writes, long (a safety net)
 * where `feed` is connected to a store that reports them. `override` (the
 * CLI's and server's `SWAMP_FOLLOW_POLL_MS`) replaces both, for tests that must see a notification alone.
 */
export function followPollMs(feed: ChangeFeed | undefined, override?: number): number {
  if (override !== undefined && override > 0) return override;
  return feed && live.has(feed) ? 2000 : 150;
}

/** What a follower of one run waits on for its next read. */
export interface RunFollow {
  changes: ChangeFeed | undefined;
  close(): void;
}

/**
 * What a reader of `runId` waits on: `own` (the server's feed) when there is
 * one; else, when it follows, the store's subscription, or for a store that
 * can watch one run (the file store) a feed of that run's changes alone,
 * closed with the follower (it wakes the follower when the run's status
 * changes, and the poll reads the rest); else none (the follower polls).
 */
export function followRun(
  follows: boolean,
  own: ChangeFeed | undefined,
  store: RunStore,
  runId: string,
): RunFollow {
  const shared = follows ? own ?? storeFeed(store) : own;
  const none = { changes: shared, close() {} };
  if (!follows || shared || !store.watchRun) return none;
  const watched = new ChangeFeed();
  try {
    // The run's status moved: both its events and its log may hold the end a follower waits for.
    const stop = store.watchRun(runId, () => {
      watched.notify(runId, "events");
      watched.notify(runId, "logs");
    });
    return { changes: watched, close: stop };
  } catch {
    return none;
  }
}
