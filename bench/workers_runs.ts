// (d) of bench/workers.ts: the per-step overhead a user sees in a run. The
// same sequential workflow of `true` steps is submitted to one `swamp serve`
// (TLS, child process) twice over: once with its steps on the orchestrator
// (loopback), once placed by a label on one real `swamp worker connect`.
// Each is also run with one step, so the per-step cost is the slope
// (T(n) − T(1)) / (n − 1): the submission and the run's own start and end
// cancel out. Submit to settled, through the API, interleaved.
// Run alone: deno run --allow-all bench/workers_runs.ts
// (BENCH_WORKERS_RUN_STEPS, default 40; BENCH_WORKERS_RUN_ROUNDS, default 7)
import { noopWorkflow, serve, verdict, waitForEnd } from "./api_lib.ts";
import { direct, envInt, median, run, table, withTempDir } from "./lib.ts";
import type { StoreKind } from "./runs_lib.ts";
import { RunStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { startWorker, type WorkerProcess } from "../test/helpers/worker.ts";

/** The workflow with every step placed on workers labelled bench=yes. */
const placed = (yaml: string) => yaml.replace(/^(name: .*)$/m, '$1\nlabels: {bench: "yes"}');

/** One real `swamp worker connect`, labelled bench=yes, connected. */
async function connectWorker(
  url: string,
  caFile: string,
  repo: string,
  dir: string,
): Promise<WorkerProcess> {
  const token =
    (await run([...direct, "worker", "token", "create", "bench-w", "-q", "--repo", repo]))
      .trim();
  const worker = startWorker(url, [
    "--token",
    token,
    "--ca-cert",
    caFile,
    "--cache-dir",
    `${dir}/worker-cache`,
    "--label",
    "bench=yes",
  ]);
  await worker.waitFor("connected", 60_000);
  return worker;
}

async function one(store: StoreKind, n: number, rounds: number): Promise<number[]> {
  return await withTempDir("swamp-bench-worker-runs-", async (dir) => {
    const workflows = {
      "local-1": noopWorkflow("local-1", 1, "m-local"),
      "local-n": noopWorkflow("local-n", n, "m-local"),
      "placed-1": placed(noopWorkflow("placed-1", 1, "m-placed")),
      "placed-n": placed(noopWorkflow("placed-n", n, "m-placed")),
    };
    const served = await serve(dir, "runs", store, workflows, { tls: true });
    const worker = await connectWorker(served.url, served.certFile!, served.repo, dir);
    try {
      const names = Object.keys(workflows);
      const times = new Map(names.map((name) => [name, [] as number[]]));
      const once = async (name: string) => {
        const start = performance.now();
        const id = (await served.api.submitRun({ workflow: name })).run!.id;
        const status = await waitForEnd(served.api, id);
        if (status !== RunStatus.SUCCEEDED) throw new Error(`${name} ended ${RunStatus[status]}`);
        return performance.now() - start;
      };
      for (const name of names) await once(name); // warm-up
      for (let r = 0; r < rounds; r++) {
        for (const name of names) times.get(name)!.push(await once(name));
      }
      const slope = (kind: string) =>
        (median(times.get(`${kind}-n`)!) - median(times.get(`${kind}-1`)!)) / (n - 1);
      return [slope("local"), slope("placed"), ...names.map((name) => median(times.get(name)!))];
    } finally {
      await worker[Symbol.asyncDispose]();
      await served.close();
    }
  });
}

export async function main(): Promise<void> {
  const n = envInt("BENCH_WORKERS_RUN_STEPS", 40);
  const rounds = envInt("BENCH_WORKERS_RUN_ROUNDS", 7);
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const store of ["file", "sqlite"] as const) {
    const [local, remote, l1, ln, p1, pn] = await one(store, n, rounds);
    const ratio = remote / local;
    rows.push([
      `${store} store`,
      l1.toFixed(0),
      ln.toFixed(0),
      p1.toFixed(0),
      pn.toFixed(0),
      local.toFixed(2),
      remote.toFixed(2),
      ratio.toFixed(2),
    ]);
    verdicts.push(
      `target: a placed step's per-step cost in a run ≤ 2.0× a local step's (${store} store): ` +
        `${ratio.toFixed(2)}× ${verdict(ratio <= 2)}`,
    );
  }
  console.log(
    `(d) per-step cost in a run: ${n} sequential \`true\` steps against 1, submitted to ` +
      `\`swamp serve\` (TLS), on the orchestrator against placed on 1 worker; median of ${rounds}`,
  );
  console.log(table([
    "case",
    "local 1 ms",
    `local ${n} ms`,
    "placed 1 ms",
    `placed ${n} ms`,
    "local ms/step",
    "placed ms/step",
    "× local",
  ], rows));
  for (const line of verdicts) console.log(line);
}

if (import.meta.main) await main();
