// A trivial step through the Docker executor versus `docker run --rm` of the
// same image and command, measured in the same run, interleaved. The issue's
// target: the executor takes at most 1.2× the CLI's time. The image is built
// locally from busybox-static (test/helpers/docker.ts); nothing is pulled.
// Run: deno run --allow-all bench/docker.ts  (BENCH_DOCKER_RUNS, BENCH_WARMUP)
import { createDockerExecutor } from "../plugins/executors/docker/mod.ts";
import { dockerAvailable, ensureTestImage } from "../test/helpers/docker.ts";
import { envInt, median, percentile, table, timeOnce } from "./lib.ts";

const TARGET_RATIO = 1.2;

async function throughExecutor(image: string): Promise<number> {
  const executor = createDockerExecutor({ defaultImage: image });
  const started = performance.now();
  let exitCode = -1;
  for await (
    const e of executor.dispatch({
      runId: "bench-docker",
      stepId: crypto.randomUUID(),
      command: { script: "echo hello" },
      env: {},
      graceMs: 3000,
      outputLimitBytes: 1024,
    }, new AbortController().signal)
  ) {
    if (e.type === "exited") exitCode = e.exitCode;
  }
  if (exitCode !== 0) throw new Error(`the step failed with ${exitCode}`);
  return performance.now() - started;
}

export async function main(): Promise<void> {
  if (!(await dockerAvailable())) {
    console.log("Docker executor: no Docker engine answers here; skipped");
    return;
  }
  const image = await ensureTestImage();
  const runs = envInt("BENCH_DOCKER_RUNS", 15);
  const warmup = envInt("BENCH_WARMUP", 3);
  const cli = [
    "docker",
    "run",
    "--rm",
    "--network",
    "none",
    "--init",
    image,
    "/bin/sh",
    "-c",
    "echo hello",
  ];
  for (let i = 0; i < warmup; i++) {
    await timeOnce(cli);
    await throughExecutor(image);
  }
  const base: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await timeOnce(cli));
    ours.push(await throughExecutor(image));
  }
  const ratio = median(ours) / median(base);
  console.log(
    `Docker executor: ${warmup} warm-up + ${runs} timed runs, interleaved; step \`echo hello\` ` +
      `in ${image} (create, attach, start, wait, remove)`,
  );
  console.log(table(["case", "median ms", "p90 ms", "× docker run"], [
    ["`docker run --rm --init` (baseline)", median(base), percentile(base, 90), "1.00"],
    ["Docker executor dispatch", median(ours), percentile(ours, 90), ratio.toFixed(2)],
  ]));
  console.log(
    `target (issue 6): at most ${TARGET_RATIO}× the CLI's time: ${
      ratio <= TARGET_RATIO ? "PASS" : "FAIL"
    } (${ratio.toFixed(2)}×; informational only)`,
  );
}

if (import.meta.main) await main();
