// Issue 17's speed targets for running workflows, each printed against its
// floor measured in the same run, through the real `cli/swamp` launcher:
//  1. submit → first step: from the spawn of `swamp workflow run` to the
//     moment the first step's process runs (it writes a timestamp), with a
//     supervisor waiting for the run, back to back, and with none waiting,
//     against a raw Deno spawn of the same step (target ≤ 200 ms);
//  2. per step: a 200-step sequential run, (200-step − 1-step) / 199, over a
//     raw spawn of `sh -c true` (target ≤ 4 ms over the floor);
//  3. a 1,000-step fan-out's peak memory: the CLI (following the run) and its
//     supervisor, RSS sampled from /proc, summed (target ≤ 120 MB), against a
//     1-step run measured the same way.
// Nothing fails on time. Run: deno run --allow-all bench/submit.ts
//   BENCH_SUBMIT_RUNS (10), BENCH_SUBMIT_SEQ_STEPS (200), BENCH_SUBMIT_SEQ_RUNS (5),
//   BENCH_SUBMIT_FANOUT (1000), BENCH_SUBMIT_STORE (file)
import { envInt, launcher, median, percentile, table, withTempDir } from "./lib.ts";
import { runSampled } from "./run_memory.ts";
import { standbySocket } from "../cli/standby_wire.ts";
import {
  fanOutWorkflow,
  initRepo,
  rawSpawns,
  sequentialWorkflow,
  type StoreKind,
  writeWorkflow,
} from "./runs_lib.ts";

const FIRST_STEP_TARGET_MS = 200;
const PER_STEP_TARGET_MS = 4;
const MEMORY_TARGET_MB = 120;

const text = new TextDecoder();

/** A one-step workflow whose step writes the wall clock (epoch ns) to `file`. */
function stampWorkflow(name: string, file: string): string {
  return [
    `id: ${crypto.randomUUID()}`,
    `name: ${name}`,
    "jobs:",
    "  - name: main",
    "    steps:",
    "      - name: stamp",
    "        task: {type: model_method, modelType: command/shell, modelName: stamp, " +
    `methodName: execute, inputs: {run: "date +%s%N > ${file}"}}`,
    "",
  ].join("\n");
}

/** Epoch ms the stamp file holds, fractional. */
async function readStamp(file: string): Promise<number> {
  return Number(BigInt((await Deno.readTextFile(file)).trim()) / 1000n) / 1000;
}

/** `swamp workflow run <name>` followed to the end; the wall time, throws on failure. */
async function runWorkflow(
  repo: string,
  name: string,
  env: Record<string, string> = {},
): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(launcher[0], {
    args: [...launcher.slice(1), "workflow", "run", name],
    cwd: repo,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`workflow run ${name} exited ${out.code}:\n${text.decode(out.stderr)}`);
  }
  return performance.now() - start;
}

/**
 * Until a supervisor waits for the repository's next run (docs/design/0032),
 * and a little more for it to finish warming up; bounded.
 */
async function supervisorWaiting(repo: string): Promise<void> {
  const socket = standbySocket(await Deno.realPath(repo));
  const deadline = Date.now() + 15_000;
  while (socket && Date.now() < deadline) {
    try {
      (await Deno.connect({ transport: "unix", path: socket })).close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error("no supervisor came to wait for the next run");
}

/**
 * Spawn of `workflow run` → the step's timestamp, three ways (interleaved):
 * a supervisor waiting for the run, a run right after the previous one
 * (its supervisor has only just started the next one), and none waiting
 * (SWAMP_STANDBY_IDLE=0); and the same for a raw spawn of the step.
 */
async function firstStep(repo: string, dir: string): Promise<void> {
  const runs = envInt("BENCH_SUBMIT_RUNS", 10);
  const stamp = `${dir}/stamp`;
  await writeWorkflow(repo, "stamp", stampWorkflow("stamp", stamp));
  const viaSwamp = async (env: Record<string, string> = {}) => {
    const start = Date.now() + (performance.now() % 1); // sub-ms part is noise; keep the ms clock
    await runWorkflow(repo, "stamp", env);
    return (await readStamp(stamp)) - start;
  };
  const raw = async () => {
    const start = Date.now();
    const out = await new Deno.Command("sh", { args: ["-c", `date +%s%N > ${stamp}`] }).output();
    if (!out.success) throw new Error("the raw step failed");
    return (await readStamp(stamp)) - start;
  };
  await viaSwamp(); // warm-up: the launcher's bundle, the repository's first run
  await raw();
  const waiting: number[] = [];
  const backToBack: number[] = [];
  const none: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    await supervisorWaiting(repo);
    waiting.push(await viaSwamp());
    backToBack.push(await viaSwamp());
    await supervisorWaiting(repo);
    none.push(await viaSwamp({ SWAMP_STANDBY_IDLE: "0" }));
    rawMs.push(await raw());
  }
  console.log(
    `1. submit → first step: spawn of \`swamp workflow run\` (cli/swamp) until the step's process ` +
      `runs (\`date +%s%N\` into a file), 1 warm-up + ${runs} runs of each case, interleaved`,
  );
  const row = (
    name: string,
    ms: number[],
  ) => [name, median(ms), percentile(ms, 90), Math.max(...ms)];
  console.log(table(["case", "median ms", "p90 ms", "max ms"], [
    row("raw Deno spawn of the same step (floor)", rawMs),
    row("workflow run, a supervisor waiting for it", waiting),
    row("workflow run right after the previous run", backToBack),
    row("workflow run, none waiting (SWAMP_STANDBY_IDLE=0)", none),
  ]));
  const verdict = (ms: number[]) => median(ms) <= FIRST_STEP_TARGET_MS ? "PASS" : "FAIL";
  console.log(
    `target: submit → first step ≤ ${FIRST_STEP_TARGET_MS} ms, with a supervisor waiting: ` +
      `${verdict(waiting)} (${median(waiting).toFixed(1)} ms, ` +
      `${(median(waiting) - median(rawMs)).toFixed(1)} ms over the floor); back to back ` +
      `${verdict(backToBack)} (${median(backToBack).toFixed(1)} ms); none waiting ` +
      `${verdict(none)} (${median(none).toFixed(1)} ms) (informational only)`,
  );
}

/** Per-step time of a sequential run over the raw spawn floor, by wall clock. */
async function perStep(repo: string): Promise<void> {
  const n = envInt("BENCH_SUBMIT_SEQ_STEPS", 200);
  const runs = envInt("BENCH_SUBMIT_SEQ_RUNS", 5);
  await writeWorkflow(repo, "seq-1", sequentialWorkflow("seq-1", 1));
  await writeWorkflow(repo, `seq-${n}`, sequentialWorkflow(`seq-${n}`, n));
  await runWorkflow(repo, "seq-1");
  await rawSpawns(n);
  const one: number[] = [];
  const many: number[] = [];
  const raw: number[] = [];
  // Each timed run starts as the first of a series does, with a supervisor waiting (part 1):
  // back to back, the 200-step run would share the cores with the one the 1-step run's end
  // started loading, which is start-up, not a cost of its steps.
  for (let i = 0; i < runs; i++) {
    await supervisorWaiting(repo);
    one.push(await runWorkflow(repo, "seq-1"));
    await supervisorWaiting(repo);
    many.push(await runWorkflow(repo, `seq-${n}`));
    raw.push((await rawSpawns(n)).reduce((a, b) => a + b, 0) / n);
  }
  const step = (median(many) - median(one)) / (n - 1);
  const over = step - median(raw);
  console.log(
    `\n2. per step: ${n} sequential no-op steps (\`run: "true"\`) through cli/swamp, ` +
      `(${n}-step run − 1-step run) / ${n - 1}, against ${n} raw spawns of \`sh -c true\`; ` +
      `1 warm-up + ${runs} rounds, interleaved, each run with a supervisor waiting for it`,
  );
  console.log(table(["case", "median ms"], [
    ["raw spawn of sh -c true, per spawn (floor)", median(raw)],
    ["1-step run (fixed start-up)", median(one)],
    [`${n}-step run`, median(many)],
    ["per step", step],
  ]));
  console.log(
    `target: ≤ ${PER_STEP_TARGET_MS} ms per step over the spawn floor: ` +
      `${over <= PER_STEP_TARGET_MS ? "PASS" : "FAIL"} (${over.toFixed(2)} ms; informational only)`,
  );
}

async function fanOutMemory(repo: string): Promise<void> {
  const n = envInt("BENCH_SUBMIT_FANOUT", 1000);
  await writeWorkflow(repo, "fan-1", fanOutWorkflow("fan-1", 1, 16));
  await writeWorkflow(repo, `fan-${n}`, fanOutWorkflow(`fan-${n}`, n, 16));
  await runSampled(repo, "fan-1"); // warm-up
  const one = await runSampled(repo, "fan-1");
  const many = await runSampled(repo, `fan-${n}`);
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(
    `\n3. fan-out memory: forEach over ${n} no-op items (concurrency 16), \`swamp workflow run\` ` +
      "followed; the CLI's and the supervisor's resident pages from /proc every 20 ms",
  );
  console.log(
    table([
      "case",
      "together peak MB",
      "peak RSS sum MB",
      "CLI VmHWM MB",
      "supervisor VmHWM MB",
      "wall s",
    ], [
      [
        "1 item (floor)",
        mb(one.togetherKb),
        mb(one.sumKb),
        mb(one.cliHwmKb),
        mb(one.supervisorHwmKb),
        (one.ms / 1000).toFixed(2),
      ],
      [
        `${n} items`,
        mb(many.togetherKb),
        mb(many.sumKb),
        mb(many.cliHwmKb),
        mb(many.supervisorHwmKb),
        (many.ms / 1000).toFixed(2),
      ],
    ]),
  );
  const peak = many.togetherKb / 1024;
  console.log(
    `target: ${n}-step fan-out peak (CLI + supervisor together, shared pages counted once) ≤ ` +
      `${MEMORY_TARGET_MB} MB: ${peak <= MEMORY_TARGET_MB ? "PASS" : "FAIL"} ` +
      `(${peak.toFixed(1)} MB, ${(peak - one.togetherKb / 1024).toFixed(1)} MB over the 1-item ` +
      `run; RSS summed: ${(many.sumKb / 1024).toFixed(1)} MB; informational only)`,
  );
}

export async function main(): Promise<void> {
  const store = (Deno.env.get("BENCH_SUBMIT_STORE") ?? "file") as StoreKind;
  console.log(`submit.ts: issue 17 run targets, ${store} store, through cli/swamp`);
  await withTempDir("swamp-bench-submit-", async (dir) => {
    const repo = await initRepo(dir, "repo", store);
    const parts = (Deno.env.get("BENCH_SUBMIT_PARTS") ?? "1,2,3").split(",");
    if (parts.includes("1")) await firstStep(repo, dir);
    if (parts.includes("2")) await perStep(repo);
    if (parts.includes("3")) await fanOutMemory(repo);
  });
}

if (import.meta.main) await main();
