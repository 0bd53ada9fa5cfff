// Validation time of a 10,000-step workflow against a 1-step one, measured in the same run.
// Run: deno run --allow-all bench/validate_large.ts  (BENCH_RUNS, BENCH_WARMUP to override)
import { type Case, direct, envInt, measure, run, table, withTempDir } from "./lib.ts";

const JOBS = 10;
const STEPS_PER_JOB = 1_000;

/** `condition: {type: succeeded}` as block YAML, indented by `pad` spaces. */
const succeeded = (pad: number) =>
  `${" ".repeat(pad)}condition:\n${" ".repeat(pad + 2)}type: succeeded\n`;

/** A workflow of `jobs` chained jobs, each a chain of `steps` command/shell steps. */
export function workflowYaml(name: string, jobs: number, steps: number): string {
  const out = [`id: ${crypto.randomUUID()}\nname: ${name}\nversion: 1\njobs:\n`];
  for (let j = 0; j < jobs; j++) {
    out.push(`  - name: job-${j}\n`);
    if (j > 0) out.push(`    dependsOn:\n      - job: job-${j - 1}\n${succeeded(8)}`);
    out.push("    steps:\n");
    for (let s = 0; s < steps; s++) {
      const i = j * steps + s;
      out.push(`      - name: step-${s}\n`);
      if (s > 0) out.push(`        dependsOn:\n          - step: step-${s - 1}\n${succeeded(12)}`);
      out.push(
        "        task:\n          type: model_method\n          modelType: command/shell\n" +
          `          modelName: shell\n          methodName: execute\n          inputs:\n            run: echo ${i}\n`,
      );
    }
  }
  return out.join("");
}

export async function main(): Promise<void> {
  const runs = envInt("BENCH_RUNS", 5);
  const warmup = envInt("BENCH_WARMUP", 1);
  const steps = JOBS * STEPS_PER_JOB;
  await withTempDir("swamp-bench-validate-", async (tmp) => {
    // `large` holds both workflows (the requested baseline); `clean` holds only
    // the 1-step one, because loading a repository parses every workflow file.
    for (const repo of ["large", "clean"]) {
      await run([...direct, "repo", "init", `${tmp}/${repo}`]);
      await Deno.writeTextFile(
        `${tmp}/${repo}/workflows/workflow-one.yaml`,
        workflowYaml("one", 1, 1),
      );
    }
    const bigFile = `${tmp}/large/workflows/workflow-big.yaml`;
    await Deno.writeTextFile(bigFile, workflowYaml("big", JOBS, STEPS_PER_JOB));
    const size = (await Deno.stat(bigFile)).size;
    const validate = (
      repo: string,
      name: string,
    ) => [...direct, "workflow", "validate", name, "--repo", `${tmp}/${repo}`];
    // Fails loudly if a fixture does not validate, so we never time an error path.
    for (const [repo, name] of [["large", "big"], ["large", "one"], ["clean", "one"]]) {
      await run(validate(repo, name));
    }

    const cases: Case[] = [
      { label: "1-step workflow, same repo (baseline)", cmd: validate("large", "one") },
      { label: `${steps.toLocaleString("en")}-step workflow`, cmd: validate("large", "big") },
      { label: "1-step workflow, repo without the big file", cmd: validate("clean", "one") },
    ];
    console.log(
      `Large workflow: ${JOBS} jobs × ${STEPS_PER_JOB} steps, file ${
        (size / 1024).toFixed(0)
      } KiB (${size.toLocaleString("en")} bytes)`,
    );
    console.log(
      `${warmup} warm-up + ${runs} timed runs per case, interleaved, via deno run cli/main.ts`,
    );
    const [base, big, clean] = await measure(cases, { runs, warmup });
    console.log(table(
      ["case", "median ms", "p90 ms", "× baseline"],
      [base, big, clean].map((
        r,
      ) => [r.label, r.median, r.p90, (r.median / base.median).toFixed(2)]),
    ));
    const perStep = (from: number) => (((big.median - from) / (steps - 1)) * 1000).toFixed(1);
    console.log(
      `per-step cost: ${perStep(base.median)} µs vs same-repo baseline, ${
        perStep(clean.median)
      } µs vs clean repo`,
    );
    console.log(
      `target: 10,000 steps validate in well under a second (extra time over clean baseline: ${
        (big.median - clean.median).toFixed(0)
      } ms)`,
    );
  });
}

if (import.meta.main) await main();
