import type { RunStore } from "../ports/store.ts";

/**
 * Pokes the engine when the store reports that another writer changed the
 * run (a cancel, a gate decision, a claim), so it looks at once instead of at
 * its next poll; the engine's own appends, which the store reports too, are
 * told apart by their seq. A store without change reports, or one whose
 * subscription fails, leaves the poll to see outside writes. Returns the
 * function that stops listening.
 */
export async function pokeOnOutsideChanges(
  store: RunStore,
  runId: string,
  revision: () => bigint,
  poke: () => void,
): Promise<() => void> {
  if (!store.subscribe) return () => {};
  try {
    return await store.subscribe(runId, (change) => {
      // undefined: the store may have missed changes (a reconnect), so look.
      if (change === undefined) return poke();
      if (change.kind !== "events") return;
      if (change.seq === undefined || change.seq > revision()) poke();
    });
  } catch {
    return () => {};
  }
}
