// A real file store in a temporary directory, for tests beside runtime code
// (which may reach plugins only through test/helpers).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import { type RunServiceEnv, type RunStore, systemClock } from "../../runtime/mod.ts";
import { summarize } from "../../runtime/run/fold.ts";
import { RunCreatedSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";

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

/**
 * Stores a new run made of `init` (a fresh id, attempt 1 and revision 1
 * unless given) as createRun writes one: its runCreated event at seq 1, its
 * summary and snapshot. Its id.
 */
export async function storeNewRun(
  store: RunStore,
  init: MessageInitShape<typeof RunSchema>,
): Promise<string> {
  const run = create(RunSchema, { id: crypto.randomUUID(), attempt: 1, revision: 1n, ...init });
  const first = create(RunEventSchema, {
    runId: run.id,
    seq: 1n,
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);
  return run.id;
}

/** A RunServiceEnv on `store` alone: no repository, no executors, the system clock. */
export function storeOnlyEnv(store: RunStore): RunServiceEnv {
  return {
    locator: { root: () => Promise.resolve("/nowhere") },
    openStore: () => Promise.resolve(store),
    executors: () => Promise.resolve(new Map()),
    clock: systemClock,
    ids: { uuid: () => crypto.randomUUID() },
  } as unknown as RunServiceEnv;
}
