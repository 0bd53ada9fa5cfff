// Reads of a run against the size of its inputs (issue 18): `workflow status`
// of a finished run whose input is a list of 1,000,000 integers (6.6 MiB of
// JSON) against the same run with a three-item list, in one run of this file.
// The target: reads do not slow down with the size of the inputs.
// Run: deno run --allow-all bench/large_inputs.ts   (BENCH_LARGE_RUNS, default 10)
import { direct, envInt, measure, run, table } from "./lib.ts";

const workflow = (id: string) =>
  `id: ${id}
name: count
jobs:
  - name: main
    steps:
      - name: count
        task:
          type: model_method
          modelType: command/shell
          modelName: count
          methodName: execute
          inputs:
            run: echo "first=\${{ inputs.items[0] }}"
`;

/** A repository with one finished run of `count` whose input list has `n` items; its run id. */
async function finishedRun(dir: string, n: number): Promise<string> {
  await run([...direct, "repo", "init"], dir);
  await Deno.mkdir(`${dir}/workflows`, { recursive: true });
  await Deno.writeTextFile(`${dir}/workflows/count.yaml`, workflow(crypto.randomUUID()));
  await Deno.writeTextFile(
    `${dir}/items.json`,
    JSON.stringify({ items: Array.from({ length: n }, (_, i) => i) }),
  );
  // The step may fail on the large input (loading it takes longer than an expression may):
  // what is measured is reading the run, however it ended.
  await run([...direct, "workflow", "run", "count", "--input-file", "items.json", "--detach"], dir);
  const listed = JSON.parse(await run([...direct, "workflow", "list", "--json"], dir));
  const id = listed.runs[0].id as string;
  for (let i = 0; i < 600; i++) {
    const status = JSON.parse(await run([...direct, "workflow", "status", id, "--json"], dir));
    if (!["pending", "running"].includes(status.run.status)) return id;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`run ${id} did not end`);
}

const small = await Deno.makeTempDir({ prefix: "swamp-bench-inputs-" });
const large = await Deno.makeTempDir({ prefix: "swamp-bench-inputs-" });
try {
  const [smallRun, largeRun] = [await finishedRun(small, 3), await finishedRun(large, 1_000_000)];
  const runs = envInt("BENCH_LARGE_RUNS", 10);
  // One measure() call: the two cases interleaved, so drift in the host's load hits both.
  const rows = await measure([
    {
      label: "status, 3-item input",
      cmd: [...direct, "workflow", "status", smallRun, "--repo", small],
    },
    {
      label: "status, 1,000,000-item input",
      cmd: [...direct, "workflow", "status", largeRun, "--repo", large],
    },
  ], { runs, warmup: 1 });
  console.log("`workflow status` of a finished run, by the size of its inputs (file store)");
  console.log(table(
    ["case", "median ms", "p90 ms", "× 3-item"],
    rows.map((
      r,
    ) => [r.label, r.median.toFixed(1), r.p90.toFixed(1), (r.median / rows[0].median).toFixed(2)]),
  ));
  const ratio = rows[1].median / rows[0].median;
  console.log(
    `target: reads do not slow down with the inputs (≤ 1.5×): ${ratio.toFixed(2)}× ${
      ratio <= 1.5 ? "PASS" : "FAIL"
    }`,
  );
} finally {
  await Deno.remove(small, { recursive: true });
  await Deno.remove(large, { recursive: true });
}
