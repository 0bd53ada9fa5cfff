// Helpers for bench/api.ts: a real `swamp serve` on loopback with its token
// and a Connect client, following a run's events, and the workflows and
// timings the benchmark uses. Nothing here asserts on time.
import { type Client, createClient } from "@connectrpc/connect";
import { RunService } from "../proto/gen/swamp/v1/run_service_pb.ts";
import { RunStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import type { RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import { remoteConnection } from "../plugins/rpc/connect/client.ts";
import { mintToken } from "../test/helpers/serve.ts";
import { deno, percentile, root } from "./lib.ts";
import { initRepo, sequentialWorkflow, type StoreKind, writeWorkflow } from "./runs_lib.ts";

export type RunClient = Client<typeof RunService>;

export interface Served {
  repo: string;
  url: string;
  token: string;
  pid: number;
  /** PEM of the self-signed certificate when serving TLS. */
  ca?: string;
  certFile?: string;
  keyFile?: string;
  api: RunClient;
  /** Resolves when the server has printed `run_released` for the run. */
  released(runId: string): Promise<void>;
  /** Closes the client, then SIGTERM (drain), SIGKILL after 30 s. */
  close(): Promise<void>;
}

/**
 * `swamp repo init <dir>/<name> --store <store>`, workflows written, an admin
 * token minted, and `swamp serve --json` started on 127.0.0.1:0 (as
 * test/helpers/serve.ts starts it; `denoFlags` such as `--cpu-prof` go to its
 * `deno run`), with a Connect client holding the token.
 */
export async function serve(
  dir: string,
  name: string,
  store: StoreKind,
  workflows: Record<string, string>,
  opts: { tls?: boolean; denoFlags?: string[] } = {},
): Promise<Served> {
  const repo = await initRepo(dir, name, store);
  for (const [workflow, yaml] of Object.entries(workflows)) {
    await writeWorkflow(repo, workflow, yaml);
  }
  const token = await mintToken(repo, "bench", "admin");
  const child = new Deno.Command(deno, {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-all",
      ...(opts.denoFlags ?? []),
      `--config=${root}/deno.json`,
      `${root}/cli/main.ts`,
      "serve",
      "--repo",
      repo,
      "--json",
      "--listen",
      "127.0.0.1:0",
      "--drain-timeout",
      "5s",
      ...(opts.tls ? ["--tls-self-signed"] : []),
      // Extra flags for every server, e.g. "--runs-nice 0" (space-separated).
      ...(Deno.env.get("BENCH_API_SERVE_FLAGS") ?? "").split(" ").filter(Boolean),
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const releasedIds = new Set<string>();
  const waiters = new Map<string, (() => void)[]>();
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    (async () => {
      let buffer = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1);
          let event;
          try {
            event = JSON.parse(line);
          } catch {
            continue; // not a lifecycle line
          }
          if (event.event === "listening") resolve(event);
          if (event.event === "run_released") {
            releasedIds.add(event.runId);
            waiters.get(event.runId)?.forEach((wake) => wake());
            waiters.delete(event.runId);
          }
          if (event.event === "error") console.error(`  serve: ${line}`);
        }
      }
      reject(new Error(`swamp serve exited before listening: ${await stderr}`));
    })().catch(reject);
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const started = await listening.finally(() => clearTimeout(timeout));
  const url = String(started.url);
  const certFile = opts.tls ? `${repo}/.swamp/tls/serve-cert.pem` : undefined;
  const ca = certFile ? await Deno.readTextFile(certFile) : undefined;
  const { client, close } = await runClient(url, token, ca);
  return {
    repo,
    url,
    token,
    pid: child.pid,
    ca,
    certFile,
    keyFile: opts.tls ? `${repo}/.swamp/tls/serve-key.pem` : undefined,
    api: client,
    released: (runId) =>
      releasedIds.has(runId) ? Promise.resolve() : new Promise((resolve) => {
        waiters.set(runId, [...waiters.get(runId) ?? [], () => resolve()]);
      }),
    async close() {
      close();
      const signal = (name: Deno.Signal) => {
        try {
          child.kill(name);
        } catch { /* it has exited already */ }
      };
      signal("SIGTERM");
      const kill = setTimeout(() => signal("SIGKILL"), 30_000);
      const status = await child.status;
      clearTimeout(kill);
      const err = (await stderr).trim();
      if (status.code !== 0) {
        console.error(`  swamp serve exited ${status.code} (signal ${status.signal}): ${err}`);
      }
    },
  };
}

/**
 * A Connect client over swamp's own transport (plugins/rpc/connect/client.ts:
 * binary, HTTP/2, the bearer token, no compression offered), so the server
 * sees the calls swamp's CLI makes; `close` ends its session.
 */
export async function runClient(
  url: string,
  token: string,
  ca?: string,
): Promise<{ client: RunClient; close(): void }> {
  const { transport, close } = await remoteConnection(new URL(url), { token, caCert: ca });
  return { client: createClient(RunService, transport), close };
}

/** How often a WatchRunEvents stream broke before the run's end ("Premature close"). */
export const streamBreaks = { count: 0 };

const settled = new Set([
  RunStatus.SUCCEEDED,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
  RunStatus.ABANDONED,
]);

/**
 * Follows a run's events (WatchRunEvents, follow) to its end, calling `onEvent`
 * with each event and its receipt time; returns the last run status seen. A
 * stream that breaks is counted in `streamBreaks` and resumed after the last
 * event seen (up to 5 times); one that breaks after the final status is done.
 */
export async function follow(
  api: RunClient,
  runId: string,
  onEvent?: (event: RunEvent, receivedMs: number) => void,
): Promise<RunStatus> {
  let status: RunStatus = RunStatus.UNSPECIFIED;
  let afterSeq = 0n;
  for (let attempt = 0;; attempt++) {
    try {
      for await (const { event } of api.watchRunEvents({ runId, afterSeq, follow: true })) {
        if (!event) continue;
        onEvent?.(event, wallMs());
        afterSeq = event.seq;
        if (event.payload.case === "runStatusChanged") status = event.payload.value.to;
      }
      return status;
    } catch (error) {
      streamBreaks.count++;
      if (settled.has(status)) return status;
      if (attempt >= 5) throw error;
    }
  }
}

/** Follows a run to its end; returns the last run status seen. */
export function waitForEnd(api: RunClient, runId: string): Promise<RunStatus> {
  return follow(api, runId);
}

/**
 * `n` sequential `true` steps on model `model`. A run holds each model it acts
 * on until it ends (DESIGN §6), so runs on one model run one at a time.
 */
export function noopWorkflow(name: string, n: number, model: string): string {
  return sequentialWorkflow(name, n).replaceAll("modelName: noop,", `modelName: ${model},`);
}

/** Workflows `<prefix>-0` … `<prefix>-<count-1>` of `steps` steps, workflow i on model `modelOf(i)`. */
export function noopWorkflows(
  prefix: string,
  count: number,
  steps: number,
  modelOf: (i: number) => string,
): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${i}`;
    return [name, noopWorkflow(name, steps, modelOf(i))];
  }));
}

/**
 * `n` runs, `concurrency` at a time, none started after `deadline`: worker w
 * submits `workflowOf(w)` and follows each run to its end before the next.
 */
export async function runMany(
  api: RunClient,
  n: number,
  concurrency: number,
  deadline: number,
  workflowOf: (worker: number) => string,
): Promise<{ done: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const worker = async (_: unknown, w: number) => {
    while (next < n && performance.now() < deadline) {
      next++;
      const id = (await api.submitRun({ workflow: workflowOf(w) })).run!.id;
      if (await waitForEnd(api, id) !== RunStatus.SUCCEEDED) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done: next, failed };
}

/** One step that records, in ns since the epoch, when its process ran. */
export function stampWorkflow(name: string, file: string): string {
  return sequentialWorkflow(name, 1).replace('run: "true"', `run: "date +%s%N > ${file}"`);
}

/** Wall-clock ms, sub-ms resolution (comparable with `date +%s%N` / 1e6). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Latency of each call of `body` (ms), run back to back. */
export async function timeCalls(n: number, body: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  return times;
}

/** ms between an event's recorded time and now. */
export function eventAge(time: { seconds: bigint; nanos: number } | undefined, now: number) {
  if (!time) return NaN;
  return now - (Number(time.seconds) * 1000 + time.nanos / 1e6);
}

export const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

export const f = (ms: number) => ms.toFixed(2);
export const header = ["case", "p50 ms", "p90 ms", "p99 ms", "max ms", "n"];
export const row = (label: string, ms: number[]) => [
  label,
  ...[50, 90, 99, 100].map((p) => f(percentile(ms, p))),
  String(ms.length),
];

/** The stream's latencies: receipt − `event.time`, for events recorded after it opened. */
export async function watchLatency(api: RunClient, runId: string): Promise<number[]> {
  const ages: number[] = [];
  let opened = Infinity;
  await follow(api, runId, (event, now) => {
    opened = Math.min(opened, now);
    const age = eventAge(event.time, now);
    if (now - age >= opened) ages.push(age);
  });
  return ages;
}
