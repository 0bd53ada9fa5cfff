// bench/api.ts part 1b: GetRun and a watcher while the server runs a load of
// sequential-step runs, against two baselines measured in the same run (see
// bench/README.md, api.ts). Informational: nothing fails on time.
import { create, toBinary } from "@bufbuild/protobuf";
import { GetRunRequestSchema } from "../proto/gen/swamp/v1/run_service_pb.ts";
import { percentile, table } from "./lib.ts";
import { delay, type StoreKind } from "./runs_lib.ts";
import { bareClient, startEcho } from "./api_baselines.ts";
import { f, header, row, type Served, verdict, watchLatency } from "./api_lib.ts";

const LOAD_INTERVAL_MS = 5;

export interface LoadOptions {
  loadRuns: number;
  loadSteps: number;
  /** Every load run on one model (`load-0`), so they queue on its lock. */
  sharedModel: boolean;
  serverStore: StoreKind;
  /** How long the load may take before the part stops submitting. */
  limitMs: number;
}

/**
 * Calls, one every LOAD_INTERVAL_MS at most, until `stop()` says so: `pick(i)`
 * names the i-th call and where its time goes. Returns how many failed.
 */
async function sampleCalls(
  pick: (i: number) => { call: () => Promise<unknown>; into: number[] },
  stop: () => boolean,
): Promise<number> {
  let failed = 0;
  for (let i = 0; !stop(); i++) {
    const { call, into } = pick(i);
    const start = performance.now();
    const ok = await call().then(() => true, () => false);
    const ms = performance.now() - start;
    if (ok) into.push(ms);
    else failed++;
    await delay(Math.max(0, LOAD_INTERVAL_MS - ms));
  }
  return failed;
}

/** GetRun of a run, as sampleCalls takes it. */
function getRunOf(s: Served, runId: string, into: number[]) {
  return { call: () => s.api.getRun({ runId }), into };
}

/**
 * 1b's baseline: the same GetRun sampling while as many busy loops as the host
 * has cores run outside swamp, which does nothing else meanwhile: how long a
 * saturated host keeps any caller waiting.
 */
async function saturatedFloor(s: Served, finishedId: string): Promise<number[]> {
  const cores = navigator.hardwareConcurrency;
  const loops = Array.from(
    { length: cores },
    () => new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn(),
  );
  const ms: number[] = [];
  const until = performance.now() + 10_000;
  try {
    await sampleCalls(() => getRunOf(s, finishedId, ms), () => performance.now() > until);
  } finally {
    for (const loop of loops) loop.kill("SIGKILL");
    await Promise.all(loops.map((loop) => loop.status));
  }
  return ms;
}

/**
 * 1b + 3. GetRun and a watcher while the server runs LOAD_RUNS × LOAD_STEPS
 * steps; meanwhile the node:http2 echo of part 1a, its own process, is called
 * the same way: how long this load keeps any server's caller waiting.
 */
export async function underLoad(
  dir: string,
  s: Served,
  finishedId: string,
  load: LoadOptions,
): Promise<void> {
  const { loadRuns, loadSteps, sharedModel, serverStore, limitMs } = load;
  const ids: string[] = [];
  const released = new Set<string>();
  const finishedMs: number[] = [];
  const runningMs: number[] = [];
  const submitMs: number[] = [];
  let stop = false;
  const floorMs = await saturatedFloor(s, finishedId);
  const echo = await startEcho(dir);
  const echoCalls = bareClient(echo.url);
  const echoBody = toBinary(
    GetRunRequestSchema,
    create(GetRunRequestSchema, { runId: finishedId }),
  );
  const echoMs: number[] = [];
  const echoSampler = sampleCalls(
    () => ({ call: () => echoCalls.call(echoBody), into: echoMs }),
    () => stop,
  );
  const sampler = sampleCalls((i) => {
    let cursor = 0;
    while (cursor < ids.length && released.has(ids[cursor])) cursor++;
    const running = i % 2 === 1 && cursor < ids.length ? ids[cursor] : undefined;
    return running ? getRunOf(s, running, runningMs) : getRunOf(s, finishedId, finishedMs);
  }, () => stop);
  let watched: Promise<number[]> | undefined;
  const start = performance.now();
  for (let i = 0; i < loadRuns; i++) {
    const t = performance.now();
    const id = (await s.api.submitRun({ workflow: `load-${sharedModel ? 0 : i}` })).run!.id;
    submitMs.push(performance.now() - t);
    ids.push(id);
    s.released(id).then(() => released.add(id));
    if (i === Math.floor(loadRuns / 2)) {
      watched = watchLatency(s.api, id);
      watched.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const all = await Promise.race([
    Promise.all(ids.map((id) => s.released(id))).then(() => true),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), limitMs)),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - start) / 1000;
  stop = true;
  const failedCalls = await sampler;
  const failedEcho = await echoSampler;
  await echoCalls.close();
  await echo.close();
  const ages = await (watched ?? Promise.resolve([]));
  console.log(
    `Under load: ${loadRuns} runs × ${loadSteps} sequential \`true\` steps submitted through ` +
      `SubmitRun (${serverStore} store), ${
        all ? "all ended" : `NOT ALL ENDED (limit ${limitMs / 1000} s)`
      } ` +
      `in ${seconds.toFixed(1)} s (${((loadRuns * loadSteps) / seconds).toFixed(0)} steps/s); ` +
      `GetRun one call every ${LOAD_INTERVAL_MS} ms at most, alternating between the finished ` +
      "1-step run and the oldest load run still going; one watcher on the middle load run, " +
      `from its submit${failedCalls > 0 ? `; ${failedCalls} GetRun calls FAILED` : ""}` +
      `${failedEcho > 0 ? `; ${failedEcho} echo calls FAILED` : ""}`,
  );
  console.log(table(header, [
    row("GetRun, finished 1-step run", finishedMs),
    row("GetRun, a running load run", runningMs),
    row("SubmitRun of a load run", submitMs),
    row("event delivery to the watcher", ages),
    row(`baseline: GetRun, finished run, ${navigator.hardwareConcurrency} busy loops`, floorMs),
    row("baseline: node:http2 echo under the same load", echoMs),
  ]));
  const both = [...finishedMs, ...runningMs];
  console.log(
    `target: GetRun p99 under load ≤ 10 ms: ${verdict(percentile(both, 99) <= 10)} ` +
      `(p99 ${f(percentile(both, 99))} ms, max ${f(Math.max(...both))} ms over both rows; ` +
      `${(percentile(both, 99) / percentile(floorMs, 99)).toFixed(2)}× the p99 of the same ` +
      "calls on a host saturated by busy loops and no swamp work (the baseline row, measured " +
      `first for 10 s); ${(percentile(both, 99) / percentile(echoMs, 99)).toFixed(2)}× the ` +
      "echo's p99 under the same load; informational only)",
  );
}
