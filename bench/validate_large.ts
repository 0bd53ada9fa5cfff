// Validation time of a 10,000-step workflow against a 1-step one, measured in the same run.
// Run: deno run --allow-all bench/validate_large.ts  (BENCH_RUNS, BENCH_WARMUP to override)
import { constructFromEvents, CORE_SCHEMA, parseEvents } from "js-yaml";
import { readBlockYaml } from "../runtime/text/yaml_block.ts";
import { quickAccept } from "../runtime/workflow/quick_check.ts";
import { workflow as workflowSchema } from "../runtime/workflow/schema.ts";
import { workflowYaml } from "../test/helpers/large_workflow.ts";
import {
  type Case,
  deno,
  direct,
  envInt,
  hostPauseShare,
  launcher,
  measure,
  median,
  root,
  run,
  runFlags,
  table,
  withTempDir,
} from "./lib.ts";

const JOBS = 10;
const STEPS_PER_JOB = 1_000;
/** Issue 17: validating the big file takes at most this many times parsing it alone. */
const PARSE_TARGET = 2;

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
    await againstParse(bigFile, `${tmp}/large`, runs, warmup);
  });
  phases(runs);
}

/**
 * Issue 17: `swamp workflow validate` of the big file through the real
 * launcher, against the CLI's own `--version` start-up and against a process
 * that only parses the same file (`bench/parse_yaml.ts`: the CLI's parser, and
 * js-yaml's plain `load` for comparison), interleaved.
 */
async function againstParse(file: string, repo: string, runs: number, warmup: number) {
  const parse = (parser: string) => [
    deno,
    "run",
    ...runFlags,
    "--config",
    `${root}/deno.json`,
    `${root}/bench/parse_yaml.ts`,
    parser,
    file,
  ];
  const cases: Case[] = [
    { label: "swamp --version (cli/swamp)", cmd: [...launcher, "--version"] },
    { label: "parse only: swamp's YAML reader (floor)", cmd: parse("swamp") },
    { label: "parse only: js-yaml load", cmd: parse("js-yaml") },
    {
      label: "swamp workflow validate big (cli/swamp)",
      cmd: [...launcher, "workflow", "validate", "big", "--repo", repo],
    },
    {
      // None waiting to serve it (docs/design/0033): the command loads and validates by itself.
      label: "the same, none waiting (SWAMP_STANDBY_IDLE=0)",
      cmd: [
        "env",
        "SWAMP_STANDBY_IDLE=0",
        ...launcher,
        "workflow",
        "validate",
        "big",
        "--repo",
        repo,
      ],
    },
  ];
  for (const c of cases) await run(c.cmd); // fails loudly rather than timing an error path
  console.log(
    `\nIssue 17: validate through cli/swamp against --version and a parse-only process ` +
      `(${warmup} warm-up + ${runs} runs each, interleaved)`,
  );
  const results = await measure(cases, { runs, warmup });
  const [version, parseFloor, , validate, alone] = results;
  console.log(table(
    ["case", "median ms", "p90 ms", "× --version", "× parse only"],
    results.map((r) => [
      r.label,
      r.median,
      r.p90,
      (r.median / version.median).toFixed(2),
      (r.median / parseFloor.median).toFixed(2),
    ]),
  ));
  const ratio = validate.median / parseFloor.median;
  console.log(
    `issue 17 target: validate at most ${PARSE_TARGET}× parsing the same YAML alone: ` +
      `${ratio <= PARSE_TARGET ? "PASS" : "FAIL"} (${ratio.toFixed(2)}×; ` +
      `${(validate.median / version.median).toFixed(2)}× --version; informational only)` +
      ` with a supervisor waiting; with none, ${(alone.median / parseFloor.median).toFixed(2)}×`,
  );
}

/**
 * The two slow phases of validating the large file, in this process, each
 * against the way it was done before (js-yaml's events; zod's runtime parser),
 * interleaved so that both sides see the same machine.
 */
function phases(runs: number): void {
  const text = workflowYaml("big", JOBS, STEPS_PER_JOB);
  const time = (f: () => unknown) => {
    const start = performance.now();
    f();
    return performance.now() - start;
  };
  const data = readBlockYaml(text);
  const firstQuick = time(() => quickAccept(data)); // compiles the schema: once per process
  const rows = {
    jsYaml: [] as number[],
    block: [] as number[],
    zod: [] as number[],
    quick: [] as number[],
  };
  for (let i = 0; i < runs; i++) {
    rows.jsYaml.push(
      time(() =>
        constructFromEvents(parseEvents(text, { maxDepth: 64 }), {
          source: text,
          schema: CORE_SCHEMA,
        })
      ),
    );
    rows.block.push(time(() => readBlockYaml(text)));
    rows.zod.push(time(() => workflowSchema.safeParse(data)));
    rows.quick.push(time(() => quickAccept(data)));
  }
  const m = (values: number[]) => median(values).toFixed(0);
  console.log(`\nIn-process phases for the ${JOBS * STEPS_PER_JOB}-step file (median of ${runs}):`);
  console.log(table(["phase", "before (baseline) ms", "now ms", "× faster"], [
    [
      "YAML parse: js-yaml events → block reader",
      m(rows.jsYaml),
      m(rows.block),
      (median(rows.jsYaml) / median(rows.block)).toFixed(1),
    ],
    [
      "schema: zod runtime → compiled quick check",
      m(rows.zod),
      m(rows.quick),
      (median(rows.zod) / median(rows.quick)).toFixed(1),
    ],
  ]));
  console.log(`first quick check in a process (compiles the schema): ${firstQuick.toFixed(0)} ms`);
  console.log(
    `host: a fixed-work JS loop spent ${(hostPauseShare(2) * 100).toFixed(0)} % of its wall ` +
      "time in chunks over 3x its median (the VM paused); every timing above loses some of that.",
  );
}

if (import.meta.main) await main();
