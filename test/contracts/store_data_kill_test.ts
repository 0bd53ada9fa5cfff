// kill -9 of a process writing data versions, on every store: every version
// left reads back whole with its hash, the versions run 1..N without a gap,
// and the next write is N+1. A real subprocess (store_data_loop.ts), a real
// SIGKILL, at whatever point of a write it lands.
import { hashAttributes, type RunStore } from "../../runtime/mod.ts";
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import { openSqliteStore } from "../../plugins/stores/sqlite/mod.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import { capability } from "../helpers/capabilities.ts";
import { sharedPostgres } from "../helpers/postgres.ts";

const loop = new URL("./store_data_loop.ts", import.meta.url).pathname;
const repoRoot = new URL("../../", import.meta.url).pathname;

interface KillStore {
  module: string;
  exportName: string;
  /** Where the store is (its path, or a DSN), made in or beside the test's directory. */
  place: (dir: string) => Promise<string>;
  open: (path: string) => Promise<RunStore>;
}

const stores: Record<string, KillStore> = {
  file: {
    module: new URL("../../plugins/stores/file/mod.ts", import.meta.url).href,
    exportName: "openFileStore",
    place: (dir) => Promise.resolve(`${dir}/.swamp`),
    open: (path: string) => openFileStore(path),
  },
  sqlite: {
    module: new URL("../../plugins/stores/sqlite/mod.ts", import.meta.url).href,
    exportName: "openSqliteStore",
    place: (dir) => Promise.resolve(`${dir}/swamp.db`),
    open: (path: string) => openSqliteStore(path),
  },
};

// PostgreSQL: a database of its own on a throwaway cluster, where the machine has one.
const postgres = await capability("postgres");
if (postgres.available) {
  const cluster = sharedPostgres();
  stores.postgres = {
    module: new URL("../../plugins/stores/postgres/mod.ts", import.meta.url).href,
    exportName: "openPostgresStore",
    place: async () => await (await cluster.get()).createDatabase(),
    open: (dsn: string) => openPostgresStore(dsn),
  };
} else {
  Deno.test({
    name: `[postgres] kill -9 while writing data (skipped: ${postgres.reason})`,
    ignore: true,
    fn() {},
  });
}

/** Starts the writer and SIGKILLs it once it has reported `after` versions. */
async function writeThenKill(module: string, exportName: string, path: string, after: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      loop,
      JSON.stringify({ module, exportName, args: [path] }),
    ],
    cwd: repoRoot,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.split("\n").length <= after) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the writer exited early: ${text}`);
    text += value;
  }
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel().catch(() => {});
}

for (const [kind, s] of Object.entries(stores)) {
  Deno.test(`${kind} store: kill -9 while writing data leaves whole versions 1..N`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "swamp-data-kill-" });
    const path = await s.place(dir);
    let store: RunStore | undefined;
    try {
      await (await s.open(path)).close(); // made before the writer starts
      await writeThenKill(s.module, s.exportName, path, 30);
      store = await s.open(path);
      const versions = await store.listDataVersions("crash", "item");
      assert(versions.length >= 30, `only ${versions.length} versions`);
      assertEquals(versions, Array.from({ length: versions.length }, (_, i) => i + 1));
      for (const version of versions) {
        const item = await store.getData("crash", "item", version);
        assert(item, `version ${version} does not read back`);
        const attributes = item.attributes as { i: number; padding: string };
        assertEquals(attributes.padding.length, 200_000);
        assertEquals(item.hash, hashAttributes(attributes).hash);
      }
      const next = await store.putData({
        model: "crash",
        modelType: "test/crash",
        name: "item",
        spec: "",
        attributes: { after: true },
        tags: {},
        runId: "after",
        stepId: "after",
        attempt: 1,
        now: new Date(),
      });
      assertEquals(next.version, versions.length + 1);
      assertEquals((await store.listData({ model: "crash" })).items.map((i) => i.version), [
        next.version,
      ]);
    } finally {
      await store?.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
