// `swamp serve` (issue: the API server), against baselines measured in the same run:
//  1. GetRun p50/p99 over Connect (h2c and TLS) against a bare node:http2 echo;
//     then GetRun while the same server executes LOAD_RUNS runs × LOAD_STEPS steps
//     (bench/api_load.ts);
//  2. `workflow status ID --server URL --token T` against local `workflow status ID`;
//  3. event delivery latency to a WatchRunEvents(follow) stream, idle and under load;
//  4. SubmitRun → the first step's process running, against local `workflow run --detach`;
//  5. 10,000 one-step runs submitted 16 at a time, waited for by WatchRunEvents, both stores
//     (with the CPU each run costs, per thread of the server, its steps and this client).
// Informational: targets print PASS/FAIL, nothing fails on time.
// Run: deno run --allow-all bench/api.ts
//   BENCH_API_CALLS (1000), BENCH_API_LOAD_RUNS (100), BENCH_API_LOAD_STEPS (100),
//   BENCH_API_SAMPLES (15), BENCH_API_RUNS (10000), BENCH_API_STORES (file,sqlite),
//   BENCH_API_LIMIT_S (600), BENCH_API_PARTS (1,2,3,4,5), BENCH_API_STORE (file: parts 1-4),
//   BENCH_API_SHARED_MODEL (1: every load run on one model, so they queue on its lock),
//   BENCH_API_CPU_PROF (a directory: every server writes a CPU profile there),
//   BENCH_API_SERVE_FLAGS (extra `swamp serve` flags, space-separated: "--runs-nice 0"),
//   BENCH_API_DENO_FLAGS (extra flags for the server's `deno run`: "--v8-flags=--max-semi-space-size=1")
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetRunRequestSchema, GetRunResponseSchema } from "../proto/gen/swamp/v1/run_service_pb.ts";
import {
  direct,
  envInt,
  hostPauseShare,
  launcher,
  measure,
  median,
  run,
  table,
  withTempDir,
} from "./lib.ts";
import { rawSpawn, sequentialWorkflow, type StoreKind } from "./runs_lib.ts";
import { cpuPerUnit, threadCpu } from "./thread_cpu.ts";
import { underLoad } from "./api_load.ts";
import { bareClient, startEcho, startStub } from "./api_baselines.ts";
import {
  f,
  header,
  noopWorkflows,
  row,
  runClient,
  runMany,
  serve,
  type Served,
  stampWorkflow,
  streamBreaks,
  timeCalls,
  verdict,
  waitForEnd,
  wallMs,
  watchLatency,
} from "./api_lib.ts";

const calls = envInt("BENCH_API_CALLS", 1000);
const loadRuns = envInt("BENCH_API_LOAD_RUNS", 100);
const loadSteps = envInt("BENCH_API_LOAD_STEPS", 100);
const samples = envInt("BENCH_API_SAMPLES", 15);
const manyRuns = envInt("BENCH_API_RUNS", 10_000);
const limitMs = envInt("BENCH_API_LIMIT_S", 600) * 1000;
const profDir = Deno.env.get("BENCH_API_CPU_PROF");
/** All load runs (and all part-5 workers) on one model: they queue on its lock. */
const sharedModel = Deno.env.get("BENCH_API_SHARED_MODEL") === "1";
/** The store of the server of parts 1–4. */
const serverStore: StoreKind = Deno.env.get("BENCH_API_STORE") === "sqlite" ? "sqlite" : "file";
const modelOf = (i: number) => (sharedModel ? "noop" : `noop-${i}`);
const denoFlags = [
  ...(profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
  ...(Deno.env.get("BENCH_API_DENO_FLAGS") ?? "").split(" ").filter(Boolean),
];
const parts = (Deno.env.get("BENCH_API_PARTS") ?? "1,2,3,4,5").split(",").map((x) => x.trim());
const CONCURRENCY = envInt("BENCH_API_CONCURRENCY", 16);

/**
 * 1a. GetRun of a finished 1-step run against a bare http2 echo of the request's
 * bytes, and against swamp's Connect stack answering the same GetRun from memory,
 * all three called by one bare http2 client sending the same Connect unary
 * request; then GetRun through swamp's own Connect client, for what it adds.
 */
async function idle(dir: string, s: Served, runId: string, label: string): Promise<void> {
  const tls = s.certFile ? { cert: s.certFile, key: s.keyFile! } : undefined;
  const body = toBinary(GetRunRequestSchema, create(GetRunRequestSchema, { runId }));
  const answer = toBinary(GetRunResponseSchema, await s.api.getRun({ runId }));
  const echo = await startEcho(dir, tls);
  const stub = await startStub(dir, answer, tls);
  const echoCalls = bareClient(echo.url, s.ca);
  const stubCalls = bareClient(stub.url, s.ca);
  const swampCalls = bareClient(s.url, s.ca, s.token);
  const connectClient = await runClient(s.url, s.token, s.ca);
  const getRun = async () => {
    const got = fromBinary(GetRunResponseSchema, await swampCalls.call(body));
    if (got.run?.id !== runId) throw new Error(`GetRun answered run ${got.run?.id}`);
  };
  const cases: [string, () => Promise<unknown>][] = [
    [`echo (${label}, baseline)`, () => echoCalls.call(body)],
    ["Connect stack, fixed answer", () => stubCalls.call(body)],
    ["GetRun", getRun],
    ["GetRun, swamp's Connect client", () => connectClient.client.getRun({ runId })],
  ];
  const ms = cases.map(() => [] as number[]);
  for (const [, call] of cases) await timeCalls(100, call);
  for (let done = 0; done < calls; done += 50) {
    for (const [i, [, call]] of cases.entries()) ms[i].push(...await timeCalls(50, call));
  }
  connectClient.close();
  await Promise.all([echoCalls.close(), stubCalls.close(), swampCalls.close()]);
  await Promise.all([echo.close(), stub.close()]);
  const ratio = median(ms[2]) / median(ms[0]);
  console.log(
    `GetRun over Connect (binary, ${label}) against a node:http2 echo of the same request ` +
      `(${body.length} B; GetRun answers ${answer.length} B) and against swamp's Connect ` +
      "server answering it from memory (bench/api_baselines.ts: no token check, no store), each " +
      "its own process, all called by one bare node:http2 client sending the same Connect " +
      "unary request (swamp's answer decoded and checked); last row: GetRun through swamp's " +
      `Connect client (@connectrpc/connect-node). 100 warm-up + ${calls} calls each, ` +
      "interleaved in rounds of 50",
  );
  console.log(table(header, cases.map(([name], i) => row(name, ms[i]))));
  console.log(
    `target: GetRun p50 ≤ 3× the echo's: ${verdict(ratio <= 3)} (${ratio.toFixed(2)}×; ` +
      `Connect stack ${(median(ms[1]) / median(ms[0])).toFixed(2)}×; through swamp's Connect ` +
      `client ${(median(ms[3]) / median(ms[0])).toFixed(2)}×; informational only)`,
  );
}

/** 2. `workflow status` of the same run, locally and through the server. */
const noneWaiting = ["env", "SWAMP_STANDBY_IDLE=0"];

async function status(s: Served, runId: string): Promise<void> {
  const remote = ["workflow", "status", runId, "--server", s.url, "--token", s.token];
  const local = ["workflow", "status", runId];
  const results = await measure([
    { label: "local, cli/swamp", cmd: [...launcher, ...local] },
    { label: "--server, cli/swamp", cmd: [...launcher, ...remote] },
    // With waiting off (SWAMP_STANDBY_IDLE=0): each command loads its own code.
    { label: "local, cli/swamp, none waiting", cmd: [...noneWaiting, ...launcher, ...local] },
    { label: "--server, cli/swamp, none waiting", cmd: [...noneWaiting, ...launcher, ...remote] },
    { label: "local, deno run cli/main.ts", cmd: [...direct, ...local] },
    { label: "--server, deno run cli/main.ts", cmd: [...direct, ...remote] },
  ], { runs: samples, warmup: 2, cwd: s.repo });
  console.log(
    `\`swamp workflow status ID\` of the ${loadSteps}-step run, locally and with --server ` +
      `(h2c), spawn to exit; 2 warm-up + ${samples} runs each, interleaved`,
  );
  console.log(table(
    ["case", "median ms", "p90 ms"],
    results.map((r) => [r.label, f(r.median), f(r.p90)]),
  ));
  for (
    const [l, r] of [[results[0], results[1]], [results[2], results[3]], [results[4], results[5]]]
  ) {
    const ratio = r.median / l.median;
    console.log(
      `target (${l.label.split(", ").slice(1).join(", ")}): --server ≤ 1.2× local: ` +
        `${verdict(ratio <= 1.2)} ` +
        `(${ratio.toFixed(2)}×; informational only)`,
    );
  }
}

/** 4. From the submit to the moment the first step's process wrote `date +%s%N`. */
async function firstStep(s: Served, stamp: string): Promise<void> {
  const read = async (t0: number) => Number(await Deno.readTextFile(stamp)) / 1e6 - t0;
  const api: number[] = [];
  const cli: number[] = [];
  const cliRemote: number[] = [];
  const cliRun = async (extra: string[], into: number[], i: number) => {
    await Deno.remove(stamp).catch(() => {});
    const t0 = wallMs();
    const out = await run([...launcher, "workflow", "run", "stamp", "--detach", ...extra], s.repo);
    await waitForEnd(s.api, out.split("\n")[0].trim());
    if (i > 0) into.push(await read(t0));
  };
  for (let i = 0; i <= samples; i++) { // the first round is a warm-up
    await Deno.remove(stamp).catch(() => {});
    const t0 = wallMs();
    const id = (await s.api.submitRun({ workflow: "stamp" })).run!.id;
    await s.released(id);
    if (i > 0) api.push(await read(t0));
    await cliRun([], cli, i);
    await cliRun(["--server", s.url, "--token", s.token], cliRemote, i);
  }
  console.log(
    "Submit → the first step's process running (it writes `date +%s%N`), minus the wall " +
      `clock at the submit; 1 warm-up + ${samples} rounds, interleaved`,
  );
  console.log(table(header, [
    row("SubmitRun through the server (Connect client)", api),
    row("`swamp workflow run --detach --server` (cli/swamp)", cliRemote),
    row("local `swamp workflow run --detach` (cli/swamp)", cli),
  ]));
  console.log(
    `target: through the server ≤ 50 ms (median): ${verdict(median(api) <= 50)} ` +
      `(${f(median(api))} ms; informational only)`,
  );
}

/** Seconds to spawn `n` `sh -c true` processes, CONCURRENCY at a time: part 5's floor. */
async function spawnFloor(n: number): Promise<number> {
  let left = n;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (left-- > 0) await rawSpawn();
  }));
  return (performance.now() - start) / 1000;
}

/** 5. `manyRuns` one-step runs, CONCURRENCY at a time, each followed to its end. */
async function throughput(dir: string, store: StoreKind): Promise<void> {
  const workflows = noopWorkflows("one", CONCURRENCY, 1, modelOf);
  const s = await serve(dir, `many-${store}`, store, workflows, { denoFlags });
  try {
    const go = (n: number, deadline: number) =>
      runMany(s.api, n, CONCURRENCY, deadline, (w) => `one-${w}`);
    await go(CONCURRENCY * 2, Infinity); // warm-up, untimed
    const breaks = streamBreaks.count;
    const cpu = [threadCpu(s.pid), threadCpu(Deno.pid)];
    const start = performance.now();
    const progress = setInterval(
      () => console.error(`  … ${store}: ${((performance.now() - start) / 1000).toFixed(0)} s`),
      30_000,
    );
    const { done, failed } = await go(manyRuns, start + limitMs);
    clearInterval(progress);
    const seconds = (performance.now() - start) / 1000;
    const [server, client] = [
      cpuPerUnit(cpu[0], threadCpu(s.pid), done),
      cpuPerUnit(cpu[1], threadCpu(Deno.pid), done),
    ];
    const scaled = seconds * (10_000 / done);
    const spawnSeconds = await spawnFloor(Math.min(done, 4000));
    const spawnScaled = spawnSeconds * (10_000 / Math.min(done, 4000));
    console.log(
      `${done.toLocaleString("en")} one-step runs${
        done < 10_000 ? " (scaled down from 10,000)" : ""
      }, ${store} store, ${CONCURRENCY} at a time (SubmitRun, then WatchRunEvents follow ` +
        `to the end): ${seconds.toFixed(1)} s, ${(done / seconds).toFixed(1)} runs/s, ` +
        `${((seconds * 1000) / done).toFixed(1)} ms per run; ${failed} did not succeed; ` +
        `${streamBreaks.count - breaks} watch streams broke before the end and were resumed`,
    );
    // Two cores run all of it: the server's threads, its steps' processes and this client.
    console.log(`CPU ms per run: server ${server}; this client ${client}`);
    console.log(
      `baseline: \`sh -c true\` spawned ${CONCURRENCY} at a time from this process, no swamp ` +
        `(one process per run, as each run's step is): ${spawnScaled.toFixed(1)} s at 10,000; ` +
        `the runs took ${(scaled / spawnScaled).toFixed(2)}× that, ` +
        `${(((scaled - spawnScaled) * 1000) / 10_000).toFixed(2)} ms per run more`,
    );
    console.log(
      `target: 10,000 runs ≤ 25 s: ${verdict(done > 0 && scaled <= 25)} (${
        done < 10_000 ? `${scaled.toFixed(1)} s at this pace` : `${seconds.toFixed(1)} s`
      }; informational only)`,
    );
  } finally {
    await s.close();
  }
}

export async function main(): Promise<void> {
  const stores = (Deno.env.get("BENCH_API_STORES") ?? "file,sqlite").split(",")
    .map((x) => x.trim()).filter((x): x is StoreKind => x === "file" || x === "sqlite");
  console.log(
    `api.ts: swamp serve on 127.0.0.1; host pause share ${
      (hostPauseShare(2) * 100).toFixed(0)
    } % (see README)`,
  );
  const started = performance.now();
  await withTempDir("swamp-bench-api-", async (dir) => {
    const stamp = `${dir}/stamp`;
    const workflows = {
      one: sequentialWorkflow("one", 1),
      load: sequentialWorkflow("load", loadSteps),
      ...noopWorkflows("load", sharedModel ? 1 : loadRuns, loadSteps, modelOf),
      stamp: stampWorkflow("stamp", stamp),
    };
    const serverParts = ["1", "2", "3", "4"].filter((p) => parts.includes(p));
    for (const tls of serverParts.length === 0 ? [] : [false, true]) {
      if (tls && !parts.includes("1")) continue;
      const s = await serve(dir, tls ? "tls" : "h2c", serverStore, workflows, { tls, denoFlags });
      try {
        const one = (await s.api.submitRun({ workflow: "one" })).run!.id;
        await waitForEnd(s.api, one);
        if (parts.includes("1")) {
          await idle(dir, s, one, tls ? "TLS" : "h2c");
          console.log();
        }
        if (tls) continue;
        const watched = (await s.api.submitRun({ workflow: "load" })).run!.id;
        const ages = await watchLatency(s.api, watched);
        if (parts.includes("3")) {
          console.log(
            `Event delivery to a WatchRunEvents(follow) stream opened right after SubmitRun of ` +
              `a ${loadSteps}-step run, idle server: receipt − event.time (whole ms, so up to ` +
              "1 ms high) for events recorded after the stream's first message",
          );
          console.log(table(header, [row("event delivery, idle", ages)]));
          console.log();
        }
        if (parts.includes("1") || parts.includes("3")) {
          await underLoad(dir, s, one, { loadRuns, loadSteps, sharedModel, serverStore, limitMs });
          console.log();
        }
        if (parts.includes("2")) {
          await status(s, watched);
          console.log();
        }
        if (parts.includes("4")) {
          await firstStep(s, stamp);
          console.log();
        }
      } finally {
        await s.close();
      }
    }
    for (const store of parts.includes("5") ? stores : []) {
      await throughput(dir, store);
      console.log();
    }
  });
  console.log(
    `api.ts took ${((performance.now() - started) / 1000).toFixed(0)} s; WatchRunEvents ` +
      `streams that broke ("Premature close") and were resumed: ${streamBreaks.count}; ` +
      `host pause share now ${(hostPauseShare(2) * 100).toFixed(0)} %`,
  );
}

if (import.meta.main) await main();
