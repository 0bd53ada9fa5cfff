// Every store against the one RunStore contract: the file and SQLite stores
// in a temporary directory each, the memory store in this process, and the
// PostgreSQL store in a database of its own per test on a throwaway cluster
// (one per run of this file, stopped when it ends).
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import { MemoryData, openMemoryStore } from "../../plugins/stores/memory/mod.ts";
import { openSqliteStore } from "../../plugins/stores/sqlite/mod.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { capability } from "../helpers/capabilities.ts";
import { sharedPostgres } from "../helpers/postgres.ts";
import type { RunStore } from "../../runtime/mod.ts";
import { storeContract } from "./store_contract.ts";
import type { StoreFixture } from "./store_fixture.ts";

/** A fixture around `openAt(path)`, where path is `place` inside a fresh temporary directory. */
function fixture(
  module: string,
  exportName: string,
  place: string,
  openAt: (path: string) => Promise<RunStore>,
): () => Promise<StoreFixture> {
  return async () => {
    const dir = await Deno.makeTempDir({ prefix: "swamp-store-contract-" });
    const path = `${dir}/${place}`;
    const open: RunStore[] = [];
    const reopen = async () => {
      const store = await openAt(path);
      open.push(store);
      return store;
    };
    return {
      store: await reopen(),
      reopen,
      dispose: async () => {
        for (const store of open) await store.close();
        await Deno.remove(dir, { recursive: true });
      },
      opener: { module, exportName, args: [path] },
    };
  };
}

storeContract(
  "file",
  fixture(
    new URL("../../plugins/stores/file/mod.ts", import.meta.url).href,
    "openFileStore",
    ".swamp",
    // No fsync in this process, to keep the suite quick on slow disks; the
    // writer subprocesses open the store with its defaults, fsync included.
    (path) => openFileStore(path, { fsync: false }),
  ),
);

storeContract(
  "sqlite",
  fixture(
    new URL("../../plugins/stores/sqlite/mod.ts", import.meta.url).href,
    "openSqliteStore",
    "swamp.db",
    (path) => openSqliteStore(path),
  ),
);

storeContract(
  "memory",
  () => {
    const data = new MemoryData();
    const reopen = () => openMemoryStore(data);
    return reopen().then((store) => ({
      store,
      reopen,
      dispose: () => Promise.resolve(),
    }));
  },
  "the memory store lives in one process",
);

const postgres = await capability("postgres");
if (postgres.available) {
  const cluster = sharedPostgres();
  storeContract("postgres", async () => {
    const dsn = await (await cluster.get()).createDatabase();
    const open: RunStore[] = [];
    const reopen = async () => {
      const store = await openPostgresStore(dsn);
      open.push(store);
      return store;
    };
    return {
      store: await reopen(),
      reopen,
      dispose: async () => {
        for (const store of open) await store.close();
      },
      opener: {
        module: new URL("../../plugins/stores/postgres/mod.ts", import.meta.url).href,
        exportName: "openPostgresStore",
        args: [dsn],
      },
    };
  });
} else {
  Deno.test({
    name: `[postgres] store contract (skipped: ${postgres.reason})`,
    ignore: true,
    fn() {},
  });
}
