// CLI start-up time against a Deno hello world measured in the same run.
// Run: deno run --allow-all bench/cli_startup.ts  (BENCH_RUNS, BENCH_WARMUP to override)
import {
  type Case,
  deno,
  direct,
  envInt,
  launcher,
  measure,
  root,
  run,
  runFlags,
  table,
  withTempDir,
} from "./lib.ts";

const TARGET = 4.0;

/** Two more steps for a workflow made by `swamp workflow create`, chained on its `hello` step. */
const extraSteps = (name: string) => `
      - name: build
        dependsOn:
          - step: hello
            condition:
              type: succeeded
        task:
          type: model_method
          modelType: command/shell
          modelName: build
          methodName: execute
          inputs:
            run: echo "build ${name}"
      - name: report
        dependsOn:
          - step: build
            condition:
              type: completed
        task:
          type: model_method
          modelType: command/shell
          modelName: report
          methodName: execute
          inputs:
            run: echo "report ${name}"
`;

export async function main(): Promise<void> {
  const runs = envInt("BENCH_RUNS", 15);
  const warmup = envInt("BENCH_WARMUP", 3);
  await withTempDir("swamp-bench-startup-", async (tmp) => {
    const repo = `${tmp}/repo`;
    await run([...launcher, "repo", "init", repo]);
    for (const name of ["a", "b", "c"]) {
      await run([...launcher, "workflow", "create", name, "--repo", repo]);
      const file = `${repo}/workflows/workflow-${name}.yaml`;
      await Deno.writeTextFile(file, (await Deno.readTextFile(file)).trimEnd() + extraSteps(name));
    }
    await Deno.writeTextFile(`${tmp}/hello.ts`, 'console.log("hello");\n');
    // Fails loudly if the fixture does not validate, so we never time an error path.
    await run([...direct, "workflow", "validate", "--all", "--repo", repo]);

    const hello = [deno, "run", ...runFlags, `${tmp}/hello.ts`];
    const cases: Case[] = [
      { label: "deno hello world (baseline)", cmd: hello },
      {
        label: "deno hello world + --config deno.json",
        cmd: [...hello.slice(0, -1), "--config", `${root}/deno.json`, hello.at(-1)!],
      },
      { label: "swamp --help (cli/swamp)", cmd: [...launcher, "--help"] },
      { label: "swamp --help (deno run)", cmd: [...direct, "--help"] },
      {
        label: "swamp workflow validate --all (cli/swamp)",
        cmd: [...launcher, "workflow", "validate", "--all"],
      },
      {
        label: "swamp workflow validate --all (deno run)",
        cmd: [...direct, "workflow", "validate", "--all"],
      },
    ];
    console.log(
      `CLI start-up: ${warmup} warm-up + ${runs} timed runs per case, interleaved, cwd = small repo (3 workflows × 3 steps)`,
    );
    const results = await measure(cases, { runs, warmup, cwd: repo });
    const base = results[0].median;
    const verdict = (label: string, ratio: number) =>
      label.startsWith("swamp") ? (ratio <= TARGET ? "PASS" : "FAIL") : "";
    console.log(table(
      ["case", "median ms", "p90 ms", "× hello", `≤ ${TARGET}×`],
      results.map((
        r,
      ) => [
        r.label,
        r.median,
        r.p90,
        (r.median / base).toFixed(2),
        verdict(r.label, r.median / base),
      ]),
    ));
    const overhead = (a: number, b: number) => (results[a].median - results[b].median).toFixed(1);
    console.log(
      `launcher overhead (sh + bootstrap check): --help ${overhead(2, 3)} ms, validate ${
        overhead(4, 5)
      } ms`,
    );
    console.log(
      `target: every swamp case at most ${TARGET.toFixed(1)}x hello world (informational only)`,
    );
  });
}

if (import.meta.main) await main();
