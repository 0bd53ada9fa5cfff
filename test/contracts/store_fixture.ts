// What a store implementation hands the store contract: a fresh, empty store
// and the ways to reach the same data again (another instance, another process).
import type { RunStore } from "../../runtime/mod.ts";
import type { Opener } from "./store_writer.ts";

export interface StoreFixture {
  store: RunStore;
  /** A fresh store instance on the same place, as another process would open it. */
  reopen: () => Promise<RunStore>;
  /** Closes every instance still open and removes the store. */
  dispose: () => Promise<void>;
  /** How a subprocess opens the same store (for the multi-process tests); none for the memory store. */
  opener?: Opener;
}

export type OpenStore = () => Promise<StoreFixture>;

/** Runs `body` against a fresh store and always disposes of it. */
export async function withStore(
  open: OpenStore,
  body: (fixture: StoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await open();
  try {
    await body(fixture);
  } finally {
    await fixture.dispose();
  }
}
