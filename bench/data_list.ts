// `swamp data list --limit 20` against the number of data items (issue 14):
// a repository with 100 items against one with BENCH_DATA_ITEMS (default
// 100,000; 100 models of N/100 names each), per store, in one run of this
// file. The target: a page of 20 costs about the same whatever the total.
// Run: deno run --allow-all bench/data_list.ts   (BENCH_DATA_RUNS, default 10)
import { openFileStore } from "../plugins/stores/file/mod.ts";
import { openSqliteStore } from "../plugins/stores/sqlite/mod.ts";
import type { RunStore } from "../runtime/mod.ts";
import { direct, envInt, measure, run, table } from "./lib.ts";

/** A repository of `store` kind holding `n` items; filled through the store API. */
async function filled(kind: "file" | "sqlite", n: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `swamp-bench-data-${kind}-` });
  await run([...direct, "repo", "init", dir, "--store", kind, "-q"]);
  // No fsync for the fill: throwaway data (the listing reads what is there either way).
  const store: RunStore = kind === "file"
    ? await openFileStore(`${dir}/.swamp`, { fsync: false })
    : await openSqliteStore(`${dir}/.swamp/swamp.db`);
  try {
    const perModel = Math.max(1, Math.floor(n / 100));
    for (let i = 0; i < n; i++) {
      await store.putData({
        model: `model-${String(Math.floor(i / perModel)).padStart(3, "0")}`,
        modelType: "bench/item",
        name: `item-${String(i % perModel).padStart(6, "0")}`,
        spec: "item",
        attributes: { i, text: "some attributes of a realistic size".repeat(4) },
        tags: {},
        runId: "bench",
        stepId: "fill",
        attempt: 1,
        now: new Date(),
      });
    }
  } finally {
    await store.close();
  }
  return dir;
}

export async function main(): Promise<void> {
  const total = envInt("BENCH_DATA_ITEMS", 100_000);
  const runs = envInt("BENCH_DATA_RUNS", 10);
  for (const kind of ["file", "sqlite"] as const) {
    const small = await filled(kind, 100);
    const large = await filled(kind, total);
    try {
      const rows = await measure([
        { label: "100 items", cmd: [...direct, "data", "list", "--limit", "20", "--repo", small] },
        {
          label: `${total.toLocaleString("en")} items`,
          cmd: [...direct, "data", "list", "--limit", "20", "--repo", large],
        },
      ], { runs, warmup: 1 });
      console.log(`\`data list --limit 20\` by the number of items (${kind} store)`);
      console.log(table(
        ["case", "median ms", "p90 ms", "× 100 items"],
        rows.map((r) => [
          r.label,
          r.median.toFixed(1),
          r.p90.toFixed(1),
          (r.median / rows[0].median).toFixed(2),
        ]),
      ));
      const ratio = rows[1].median / rows[0].median;
      console.log(
        `target: a page costs the same whatever the total (≤ 1.5×): ${ratio.toFixed(2)}× ${
          ratio <= 1.5 ? "PASS" : "FAIL"
        }`,
      );
    } finally {
      await Deno.remove(small, { recursive: true });
      await Deno.remove(large, { recursive: true });
    }
  }
}

if (import.meta.main) await main();
