// Helpers for bench/runs.ts: repositories and workflows for real runs, the
// CLI, and sampling of the supervisor process through /proc.
// Nothing here asserts on time.
import { direct } from "./lib.ts";

export type StoreKind = "file" | "sqlite";

const text = new TextDecoder();

/** A command/shell task that runs `true`. */
const noopTask =
  '{type: model_method, modelType: command/shell, modelName: noop, methodName: execute, inputs: {run: "true"}}';

/** A workflow of `n` no-op steps, each depending on the one before it. */
export function sequentialWorkflow(name: string, n: number): string {
  const lines = [
    `id: ${crypto.randomUUID()}`,
    `name: ${name}`,
    "jobs:",
    "  - name: main",
    "    steps:",
  ];
  for (let i = 1; i <= n; i++) {
    lines.push(`      - name: s${String(i).padStart(4, "0")}`);
    if (i > 1) {
      lines.push(
        `        dependsOn: [{step: s${
          String(i - 1).padStart(4, "0")
        }, condition: {type: succeeded}}]`,
      );
    }
    lines.push(`        task: ${noopTask}`);
  }
  return lines.join("\n") + "\n";
}

/** A workflow with one no-op step fanned out by `forEach` over a literal list of `n` items. */
export function fanOutWorkflow(name: string, n: number, concurrency: number): string {
  const items = Array.from({ length: n }, (_, i) => i + 1).join(", ");
  return [
    `id: ${crypto.randomUUID()}`,
    `name: ${name}`,
    "jobs:",
    "  - name: main",
    "    steps:",
    "      - name: item",
    `        forEach: {item: x, in: [${items}]}`,
    `        concurrency: ${concurrency}`,
    `        task: ${noopTask}`,
    "",
  ].join("\n");
}

/** Runs the CLI (from source) in `cwd`; returns stdout, throws with stderr on failure. */
export async function swamp(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(direct[0], {
    args: [...direct.slice(1), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`swamp ${args.join(" ")} exited ${out.code}:\n${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

/** `swamp repo init <dir>/<name> --store <store>`; returns the repository path. */
export async function initRepo(dir: string, name: string, store: StoreKind): Promise<string> {
  await swamp(dir, "repo", "init", name, "--store", store);
  return `${dir}/${name}`;
}

export async function writeWorkflow(repo: string, name: string, yaml: string): Promise<void> {
  await Deno.writeTextFile(`${repo}/workflows/workflow-${name}.yaml`, yaml);
}

/** The parts of the run record (`workflow status --json`) the benchmarks read. */
export interface RunRecord {
  id: string;
  status: string;
  reason: string;
  startTime?: string;
  endTime?: string;
  owner?: { pid: number };
  steps: {
    id: string;
    status: string;
    startTime?: string;
    endTime?: string;
    itemIndex: number;
    outputs?: { durationMs?: number };
  }[];
}

export async function runRecord(repo: string, runId: string): Promise<RunRecord> {
  return JSON.parse(await swamp(repo, "workflow", "status", runId, "--json")).run as RunRecord;
}

/** Milliseconds between two RFC 3339 timestamps of the record (NaN when one is missing). */
export function between(from?: string, to?: string): number {
  if (!from || !to) return NaN;
  return Date.parse(to) - Date.parse(from);
}

/** `workflow run <name>` followed to the end: wall time from spawn to exit, and the run id. */
export async function runFollowed(
  repo: string,
  name: string,
): Promise<{ ms: number; runId: string }> {
  const start = performance.now();
  const out = await new Deno.Command(direct[0], {
    args: [...direct.slice(1), "workflow", "run", name],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  const runId = text.decode(out.stdout).split("\n")[0].trim();
  if (!out.success) {
    throw new Error(`workflow run ${name} exited ${out.code}:\n${text.decode(out.stderr)}`);
  }
  return { ms, runId };
}

/**
 * `n` raw spawns of `sh -c true`, one after another, each with its output
 * piped and read to the end as a step's is: the time of each, in ms.
 */
export async function rawSpawns(n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await rawSpawn();
    times.push(performance.now() - start);
  }
  return times;
}

/** The baseline a step is set against: `sh -c true` spawned, its output piped and read. */
export async function rawSpawn(): Promise<void> {
  const out = await new Deno.Command("sh", { args: ["-c", "true"] }).output();
  if (!out.success) throw new Error("sh -c true failed");
}

/**
 * The pid of the run's supervisor: a process whose command line holds the
 * supervisor (`supervise.ts`, or the bundle's `supervise.js`) and either the
 * run id, or `--standby` with `parentPid` (the CLI that started it ahead) as
 * its parent; failing both, the owner pid the run's record names, when `repo`
 * is given and that process is a supervisor. Before the run id is known,
 * only the second way finds it.
 */
export async function findSupervisor(
  runId: string | undefined,
  where: { parentPid?: number; repo?: string } = {},
): Promise<number | undefined> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (!/supervise\.(ts|js)/.test(cmdline)) continue;
    if (runId && cmdline.includes(runId)) return Number(entry.name);
    if (where.parentPid !== undefined && cmdline.includes("--standby")) {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === where.parentPid) return Number(entry.name);
    }
  }
  if (where.repo === undefined || runId === undefined) return undefined;
  const owner = (await runRecord(where.repo, runId).catch(() => undefined))?.owner?.pid;
  if (!owner) return undefined;
  const cmdline = await Deno.readTextFile(`/proc/${owner}/cmdline`).catch(() => "");
  return /supervise\.(ts|js)/.test(cmdline) ? owner : undefined;
}

export interface ProcSample {
  /** max(VmHWM, VmRSS) in kB. */
  peakKb: number;
  /** utime + stime in seconds. */
  cpuS: number;
}

const ticks = 100; // USER_HZ on Linux

/** One sample of a live process, or undefined once it has exited. */
export async function sampleProc(pid: number): Promise<ProcSample | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    if (/^State:\s+Z/m.test(status)) return undefined;
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const cpuS = (Number(fields[11]) + Number(fields[12])) / ticks;
    return { peakKb: Math.max(kb("VmHWM"), kb("VmRSS")), cpuS };
  } catch {
    return undefined;
  }
}

export interface DetachedResult {
  runId: string;
  pid?: number;
  /** Spawn of `workflow run --detach` to the supervisor's exit (ms). */
  wallMs: number;
  peakKb: number;
  cpuS: number;
  finished: boolean;
  record?: RunRecord;
}

/**
 * `workflow run <name> --detach`, then samples the supervisor's /proc status
 * every `sampleMs` until it exits. Past `limitMs` the run is cancelled
 * (`workflow cancel`) and reported as not finished.
 */
export async function runDetached(
  repo: string,
  name: string,
  opts: { limitMs: number; sampleMs?: number; onProgress?: (elapsedMs: number) => void },
): Promise<DetachedResult> {
  const sampleMs = opts.sampleMs ?? 50;
  const start = performance.now();
  const runId = (await swamp(repo, "workflow", "run", name, "--detach")).split("\n")[0].trim();
  let pid: number | undefined;
  for (let i = 0; i < 200 && pid === undefined; i++) {
    pid = await findSupervisor(runId, { repo });
    if (pid !== undefined) break;
    // A short run can end before its supervisor is seen: stop looking once the record says so.
    if (
      i % 10 === 9 &&
      /^(succeeded|failed|cancelled|abandoned)$/.test((await runRecord(repo, runId)).status)
    ) break;
    await delay(sampleMs);
  }
  let peakKb = 0;
  let cpuS = 0;
  let finished = true;
  let cancelled = false;
  let lastProgress = start;
  while (pid !== undefined) {
    const s = await sampleProc(pid);
    if (!s) break;
    peakKb = Math.max(peakKb, s.peakKb);
    cpuS = s.cpuS;
    const now = performance.now();
    if (opts.onProgress && now - lastProgress > 30_000) {
      lastProgress = now;
      opts.onProgress(now - start);
    }
    if (!cancelled && now - start > opts.limitMs) {
      cancelled = true;
      finished = false;
      await swamp(repo, "workflow", "cancel", runId).catch((error) =>
        console.error(`  cancel of ${runId} failed: ${error.message}`)
      );
    }
    if (cancelled && now - start > opts.limitMs + 60_000) {
      Deno.kill(pid, "SIGKILL");
    }
    await delay(sampleMs);
  }
  const wallMs = performance.now() - start;
  const record = await runRecord(repo, runId).catch(() => undefined);
  if (record && record.status !== "succeeded") finished = false;
  return { runId, pid, wallMs, peakKb, cpuS, finished, record };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
