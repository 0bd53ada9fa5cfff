// A sample third-party executor: runs each step as a local process group at a
// lower CPU priority (`nice -n LEVEL`), with an environment prefix from its
// `executor:` block. Small, but it keeps every promise of the executor
// contract: `swamp executor test docs/examples/executors/nice.ts`.
//
// Use it in a repository by copying it to extensions/executors/nice.ts:
//   executor: {type: nice, level: 15, env: {LANG: C}}
//
// Linux only: it reads /proc to find a process group's members and start times.
// It imports only types, which leaves nothing for swamp to resolve when it
// loads the module: the values it needs come in `api`.
import type {
  Executor,
  ExecutorApi,
  RecordedProcess,
  StepEvent,
  StepWork,
} from "../../../runtime/executor_api.ts";
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

type Exited = Extract<StepEvent, { type: "exited" }>;

export default function niceExecutor(api: ExecutorApi): Executor {
  const { z } = api;
  const settings = api.defineExecutorSettings(
    z.strictObject({
      type: z.literal("nice"),
      /** How much lower the step's priority is: 0 (none) to 19 (lowest); default 10. */
      level: z.optional(
        z.int().check(z.minimum(0, "level is 0 to 19"), z.maximum(19, "level is 0 to 19")),
      ),
      /** Variables set for every step under this block, before the step's own `env`. */
      env: z.optional(z.record(z.string(), z.string())),
    }),
    (config, step) => ({
      env: { ...step.hostEnv, ...step.identity, ...config.env },
      complete: (work) => ({
        ...work,
        command: { argv: ["nice", "-n", String(config.level ?? 10), ...argvOf(work.command)] },
      }),
    }),
  );
  return {
    apiVersion: 1,
    name: "nice",
    features: { streamsLogs: true, canCancel: true, resourceLimits: false },
    settings,
    dispatch: (work, signal) => dispatch(api, work, signal),
    async reap(process) {
      const ended = await endGroup(api, process);
      return [ended ? `ended process group ${process.pgid}` : `nothing of ${process.pid} is left`];
    },
    async confirmGone(process) {
      const left = await members(api, process);
      return { gone: left.length === 0, detail: left.length ? `pids ${left} run` : "gone" };
    },
  };
}

function argvOf(command: StepWork["command"]): string[] {
  return "argv" in command ? command.argv : ["sh", "-c", command.script];
}

/** Live members of a process group (zombies excluded), from /proc. */
function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry.name));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** What still runs of a recorded step: none if its pid now names another process. */
async function members(api: ExecutorApi, p: RecordedProcess): Promise<number[]> {
  const leader = await api.processStartTime(p.pid);
  if (leader !== undefined && leader !== p.processStart) return []; // the pid was reused
  const out: number[] = [];
  for (const pid of groupPids(p.pgid)) {
    const start = await api.processStartTime(pid);
    if (start !== undefined && BigInt(start) >= BigInt(p.processStart)) out.push(pid);
  }
  return out;
}

async function endGroup(api: ExecutorApi, p: RecordedProcess): Promise<boolean> {
  if ((await members(api, p)).length === 0) return false;
  signalGroup(p.pgid, "SIGKILL");
  while (groupPids(p.pgid).length > 0) await sleep(10);
  return true;
}

function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch { /* the group is gone */ }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to `ms` for the group to empty; true when it did. */
async function emptied(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupPids(pgid).length > 0) {
    if (Date.now() >= until) return false;
    await sleep(10);
  }
  return true;
}

/** Why a step cannot start, checked before anything starts. */
function cannotStart(work: StepWork, path: string): string | undefined {
  if (work.cwd !== undefined) {
    try {
      if (!Deno.statSync(work.cwd).isDirectory) return `cwd ${work.cwd} is not a directory`;
    } catch {
      return `cwd ${work.cwd} does not exist`;
    }
  }
  const program = argvOf(work.command)[0];
  const candidates = program.includes("/")
    ? [program]
    : path.split(":").map((dir) => `${dir}/${program}`);
  const found = candidates.some((file) => {
    try {
      return Deno.statSync(file).isFile;
    } catch {
      return false;
    }
  });
  return found ? undefined : `program ${program} not found`;
}

async function* dispatch(
  api: ExecutorApi,
  work: StepWork,
  signal: AbortSignal,
): AsyncGenerator<StepEvent> {
  const base = { stdout: "", stdoutTruncated: false, timedOut: false };
  if (signal.aborted) {
    yield { type: "exited", exitCode: 130, cancelled: true, ...base };
    return;
  }
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", ...work.env };
  const why = cannotStart(work, env.PATH);
  if (why) {
    yield { type: "exited", exitCode: 127, cancelled: false, ...base, error: why };
    return;
  }
  // The step waits on stdin until swamp has recorded it started, then execs the command; on end
  // of file (nobody to record it) it exits having run nothing.
  const argv = argvOf(work.command);
  const child = spawn("sh", ["-c", 'read -r _ || exit 125; exec "$0" "$@" </dev/null', ...argv], {
    env,
    cwd: work.cwd,
    detached: true, // its own session and process group
    stdio: ["pipe", "pipe", "pipe"],
  });
  const queue: StepEvent[] = [];
  let wake = () => {};
  const push = (e: StepEvent) => {
    queue.push(e);
    wake();
  };
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let truncated = false;
  let open = 2;
  const lines = (stream: "stdout" | "stderr", source: Readable) => {
    const decoder = new TextDecoder();
    let partial = "";
    source.on("data", (chunk: Uint8Array) => {
      if (stream === "stdout") {
        const room = Math.max(0, work.outputLimitBytes - keptBytes);
        if (chunk.length > room) truncated = true;
        kept.push(chunk.subarray(0, room));
        keptBytes += Math.min(room, chunk.length);
      }
      const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop()!;
      for (const line of parts) push({ type: "output", stream, line: line.replace(/\r$/, "") });
    });
    source.on("end", () => {
      const rest = partial + decoder.decode();
      if (rest !== "") push({ type: "output", stream, line: rest });
      open--;
      wake();
    });
  };
  lines("stdout", child.stdout!);
  lines("stderr", child.stderr!);
  let status: { code: number | null; signal: string | null } | undefined;
  child.on("exit", (code, sig) => {
    status = { code, signal: sig };
    wake();
  });
  const pid = child.pid!;
  const process: RecordedProcess = {
    executor: "nice",
    pid,
    pgid: pid,
    processStart: (await api.processStartTime(pid)) ?? "",
  };
  let released = false;
  try {
    yield { type: "started", process };
    // Asked for the next event: swamp has recorded the step, so it may run now, and only now
    // (unless it was cancelled meanwhile: then end of file, and it exits having run nothing).
    if (!signal.aborted) {
      child.stdin!.end("go\n");
      released = true;
    }
  } finally {
    if (!released) child.stdin!.end();
  }

  let stopping: "cancelled" | "timedOut" | undefined;
  let confirmed = false;
  const stop = async (why: "cancelled" | "timedOut") => {
    if (stopping) return;
    stopping = why;
    const stages = [["SIGINT", "interrupted"], ["SIGTERM", "terminated"]] as const;
    for (const [sig, stage] of stages) {
      signalGroup(pid, sig);
      push({ type: "cancelStage", stage, detail: `sent ${sig} to process group ${pid}` });
      if (await emptied(pid, work.graceMs)) break;
      if (sig === "SIGTERM") {
        signalGroup(pid, "SIGKILL");
        push({ type: "cancelStage", stage: "killed", detail: `sent SIGKILL to group ${pid}` });
        await emptied(pid, 60_000);
      }
    }
    confirmed = true;
    push({ type: "cancelStage", stage: "confirmed", detail: `process group ${pid} is empty` });
  };
  const onAbort = () => void stop("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timer = work.timeoutMs === undefined
    ? undefined
    : setTimeout(() => void stop("timedOut"), work.timeoutMs);
  let ended = false;
  let cleared = false;
  try {
    while (true) {
      while (queue.length > 0) yield queue.shift()!;
      if (status && !cleared) {
        // What the step left in its group is ended before it counts as exited.
        cleared = true;
        if (!stopping) signalGroup(pid, "SIGKILL");
        await emptied(pid, 60_000);
        continue;
      }
      if (status && open === 0 && cleared && queue.length === 0) break;
      await new Promise<void>((resolve) => wake = resolve);
    }
    // A stop in progress finishes (its confirmed stage) before exited.
    while (stopping && !confirmed) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    while (queue.length > 0) yield queue.shift()!;
    ended = true;
    const signalName = status!.signal ?? undefined;
    const exited: Exited = {
      type: "exited",
      exitCode: status!.code ?? 128 + signalNumber(signalName ?? ""),
      ...(signalName ? { signal: signalName } : {}),
      cancelled: stopping === "cancelled",
      timedOut: stopping === "timedOut",
      stdout: new TextDecoder().decode(concat(kept)),
      stdoutTruncated: truncated,
    };
    yield exited;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    if (!ended) {
      // The consumer stopped reading: nothing of the step may outlive it.
      signalGroup(pid, "SIGKILL");
      await emptied(pid, 60_000);
    }
  }
}

function signalNumber(name: string): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[
    name
  ] ?? 0;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
