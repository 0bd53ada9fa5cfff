// kill -9 of a process in the middle of a long prune, on every store: every
// run is left either whole or gone, never half, and the next prune finishes
// the job. A real subprocess (store_pruner.ts), a real SIGKILL.
import {
  finishedStatuses,
  qualifiesForPrune,
  type RunStore,
  StoreNotFound,
} from "../../runtime/mod.ts";
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import { openSqliteStore } from "../../plugins/stores/sqlite/mod.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import { capability } from "../helpers/capabilities.ts";
import { sharedPostgres } from "../helpers/postgres.ts";
import type { BulkRun } from "../../plugins/stores/file/bulk_load.ts";
import { bulkLoad, manyRuns, type StoreKind } from "./prune_fill.ts";
import { RunStatus } from "./store_messages.ts";

const day = 86_400_000;
const pruner = new URL("./store_pruner.ts", import.meta.url).pathname;
const repoRoot = new URL("../../", import.meta.url).pathname;
const modules: Record<StoreKind, [string, string]> = {
  file: [new URL("../../plugins/stores/file/mod.ts", import.meta.url).href, "openFileStore"],
  sqlite: [new URL("../../plugins/stores/sqlite/mod.ts", import.meta.url).href, "openSqliteStore"],
  postgres: [
    new URL("../../plugins/stores/postgres/mod.ts", import.meta.url).href,
    "openPostgresStore",
  ],
};

async function open(kind: StoreKind, path: string): Promise<RunStore> {
  if (kind === "postgres") return await openPostgresStore(path);
  return kind === "file" ? await openFileStore(path) : await openSqliteStore(path);
}

// PostgreSQL: a database of its own on a throwaway cluster, where the machine has one.
const postgres = await capability("postgres");
const cluster = postgres.available ? sharedPostgres() : undefined;
if (!postgres.available) {
  Deno.test({
    name: `[postgres] kill -9 mid-prune (skipped: ${postgres.reason})`,
    ignore: true,
    fn() {},
  });
}

/** Where the store of `kind` is: a path in `dir`, or a fresh database's DSN. */
async function placeOf(kind: StoreKind, dir: string): Promise<string> {
  if (kind === "postgres") return await (await cluster!.get()).createDatabase();
  return kind === "file" ? `${dir}/.swamp` : `${dir}/swamp.db`;
}

/** "whole", "gone", or what is wrong with the run. */
async function stateOf(store: RunStore, run: BulkRun, listed: Set<string>): Promise<string> {
  const id = run.summary.id;
  const loaded = await store.loadRun(id);
  const events = await store.readEvents(id, 0n).catch((error) => {
    if (error instanceof StoreNotFound) return undefined;
    throw error;
  });
  const found = (await store.findRunIds(id, 2)).includes(id);
  if (loaded && events?.length === run.events.length && found && listed.has(id)) return "whole";
  if (!loaded && events === undefined && !found && !listed.has(id)) return "gone";
  return `half: loaded=${!!loaded} events=${events?.length} found=${found} listed=${
    listed.has(id)
  }`;
}

async function listedIds(store: RunStore): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ limit: 1000, cursor });
    for (const run of page.runs) ids.add(run.id);
    cursor = page.nextCursor || undefined;
  } while (cursor);
  return ids;
}

/** Starts the pruner and SIGKILLs it once it reports `after` runs pruned. */
async function pruneThenKill(kind: StoreKind, path: string, cutoff: number, after: number) {
  const [module, exportName] = modules[kind];
  const job = { opener: { module, exportName, args: [path] }, endedBeforeMs: cutoff };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", pruner, JSON.stringify(job)],
    cwd: repoRoot,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let reported = 0;
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    if (lines.length > 0) reported = Number(lines[lines.length - 1]);
    if (reported >= after) {
      child.kill("SIGKILL");
      break;
    }
  }
  const status = await child.status;
  assertEquals(status.signal, "SIGKILL", `the pruner finished before ${after} runs`);
  return reported;
}

const kinds: StoreKind[] = postgres.available ? ["file", "sqlite", "postgres"] : ["file", "sqlite"];
for (const kind of kinds) {
  Deno.test(`${kind} store: kill -9 mid-prune leaves each run whole or gone`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "swamp-prune-kill-" });
    const path = await placeOf(kind, dir);
    try {
      const now = Date.now();
      const cutoff = now - 30 * day;
      if (kind === "sqlite") await (await openSqliteStore(path)).close();
      const old = manyRuns(1500, { endMs: now - 60 * day });
      const kept = [
        ...manyRuns(20, { endMs: now - 60 * day, status: RunStatus.RUNNING }),
        ...manyRuns(100, { endMs: now - day }),
      ];
      await bulkLoad(kind, path, [...old, ...kept]);
      const reported = await pruneThenKill(kind, path, cutoff, 200);

      const store = await open(kind, path);
      try {
        const listed = await listedIds(store);
        const states = new Map<string, number>();
        for (const run of old) {
          const state = await stateOf(store, run, listed);
          states.set(state, (states.get(state) ?? 0) + 1);
        }
        assertEquals([...states.keys()].filter((s) => s !== "whole" && s !== "gone"), []);
        assert((states.get("gone") ?? 0) >= reported, `at least the ${reported} reported are gone`);
        for (const run of kept) assertEquals(await stateOf(store, run, listed), "whole");

        // The next prune finishes the job; what the killed one left in the trash goes too.
        const rule = { endedBeforeMs: cutoff, statuses: finishedStatuses };
        for (const run of old) {
          if (listed.has(run.summary.id)) assert(await store.pruneRun(run.summary.id, rule));
        }
        const after = await listedIds(store);
        assertEquals(after.size, kept.length);
        for (const run of kept) {
          assert(!qualifiesForPrune(run.summary, rule));
          assertEquals(await stateOf(store, run, after), "whole");
        }
        if (kind === "file") assertEquals([...Deno.readDirSync(`${path}/trash`)], []);
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
