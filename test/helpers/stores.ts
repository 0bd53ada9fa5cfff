// A real file store in a temporary directory, for tests beside runtime code
// (which may reach plugins only through test/helpers).
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import type { RunStore } from "../../runtime/mod.ts";

export interface TempStore {
  /** The store's directory, for another process to open the same store. */
  dir: string;
  store: RunStore;
  /** Another instance on the same directory, as another writer would have. */
  reopen(): Promise<RunStore>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The module and export a subprocess opens the same store with. */
export const fileStoreModule = new URL("../../plugins/stores/file/mod.ts", import.meta.url).href;

export async function tempFileStore(): Promise<TempStore> {
  const root = await Deno.makeTempDir({ prefix: "swamp-store-" });
  const dir = `${root}/.swamp`;
  const open: RunStore[] = [];
  const reopen = async () => {
    // No fsync: the data is thrown away with the directory.
    const store = await openFileStore(dir, { fsync: false });
    open.push(store);
    return store;
  };
  return {
    dir,
    store: await reopen(),
    reopen,
    async [Symbol.asyncDispose]() {
      for (const store of open) await store.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}
