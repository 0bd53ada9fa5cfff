// What the executor contract's cases run on: a step to dispatch, the
// collection of its events, and what one case started, so that it is all
// ended even when an assertion fails. Real processes and /proc, no stand-ins.
import { deepStrictEqual, match, ok } from "node:assert/strict";
import {
  type Executor,
  isSameProcessAlive,
  processStartTime,
  type RecordedProcess,
  type StepEvent,
  type StepWork,
} from "../../runtime/mod.ts";

export function assert(condition: unknown, message?: string): asserts condition {
  ok(condition, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message);
}

export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  match(text, pattern, message);
}

export type Exited = Extract<StepEvent, { type: "exited" }>;

/** An executor to check, made afresh for each case. */
export interface Made {
  executor: Executor;
  dispose: () => Promise<void>;
  /** For executors that start containers: what is left of the step's container (ids), if anything. */
  leftovers?: (process: RecordedProcess) => Promise<string[]>;
}

export const GRACE_MS = 300;
/** A case that has not ended after this long is aborted, then fails. */
const WATCHDOG_MS = 30_000;
export const hostPath = Deno.env.get("PATH") ?? "/usr/bin:/bin";

export function step(command: StepWork["command"], extra: Partial<StepWork> = {}): StepWork {
  return {
    runId: "contract-run",
    stepId: crypto.randomUUID(),
    command,
    env: { PATH: hostPath },
    graceMs: GRACE_MS,
    outputLimitBytes: 1 << 20,
    ...extra,
  };
}

/** Live (non-zombie) pids whose process group is `pgid`, from /proc. */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") out.push(Number(e.name));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** The step runs as a process of this host, visible in /proc (not in a container). */
export const onHost = (p: RecordedProcess | undefined): p is RecordedProcess =>
  p !== undefined && p.containerId === undefined && Deno.build.os === "linux";

/** What one case started, so that it is all ended even when an assertion fails. */
export class Tracker {
  groups: RecordedProcess[] = [];
  leftovers?: Made["leftovers"];
  pids: { pid: number; start: string }[] = [];

  /** Only pids of this host: a pid printed inside a container names another process here. */
  async trackPid(pid: number, of: RecordedProcess | undefined): Promise<void> {
    if (!onHost(of)) return;
    const start = await processStartTime(pid);
    if (start !== undefined) this.pids.push({ pid, start });
  }

  async cleanup(): Promise<void> {
    for (const { pid, start } of this.pids) {
      if (await isSameProcessAlive(pid, start)) Deno.kill(pid, "SIGKILL");
    }
    for (const g of this.groups.filter(onHost)) {
      if (groupPids(g.pgid).length > 0 && g.pgid > 1) {
        try {
          Deno.kill(-g.pgid, "SIGKILL");
        } catch { /* gone */ }
      }
    }
  }
}

export interface Run {
  events: StepEvent[];
  started?: RecordedProcess;
  exited: Exited;
  stdout: string[];
  stderr: string[];
  stages: string[];
}

/**
 * Dispatches `work` and collects its events. `onEvent` may abort the step
 * (cancel) and is awaited before the next event is read.
 */
export async function run(
  ex: Executor,
  t: Tracker,
  work: StepWork,
  onEvent?: (e: StepEvent, cancel: () => void, r: Partial<Run>) => Promise<void> | void,
  controller = new AbortController(),
): Promise<Run> {
  const r: Partial<Run> & { events: StepEvent[] } = { events: [], stdout: [], stderr: [] };
  let watchdogFired = false;
  const watchdog = setTimeout(() => {
    watchdogFired = true;
    controller.abort();
  }, WATCHDOG_MS);
  const it = ex.dispatch(work, controller.signal)[Symbol.asyncIterator]();
  try {
    while (true) {
      const next = await it.next();
      if (next.done) break;
      const e = next.value;
      assert(r.exited === undefined, `event after exited: ${JSON.stringify(e)}`);
      r.events.push(e);
      if (e.type === "started") {
        r.started = e.process;
        t.groups.push(e.process);
      } else if (e.type === "output") (e.stream === "stdout" ? r.stdout : r.stderr)!.push(e.line);
      else if (e.type === "exited") r.exited = e;
      await onEvent?.(e, () => controller.abort(), r);
    }
  } finally {
    clearTimeout(watchdog);
    if (r.exited === undefined) {
      controller.abort();
      await it.return?.();
    }
  }
  assert(!watchdogFired, `step did not end within ${WATCHDOG_MS} ms`);
  assert(r.exited !== undefined, "the stream ended without an exited event");
  assertEquals(r.events.at(-1)?.type, "exited", "exited is the last event");
  const stages = r.events.flatMap((e) => e.type === "cancelStage" ? [e.stage] : []);
  return { ...r, stages } as Run;
}

/**
 * After `exited`, nothing of the step runs: its container is gone, or its
 * process group is empty and its known children are gone. Cases that call
 * this apply only where one of the two can be seen (see `seesLeftovers`);
 * a step that shows neither fails rather than passes unchecked.
 */
export async function assertAllGone(r: Pick<Run, "started">, t: Tracker): Promise<void> {
  if (r.started?.containerId) {
    assert(t.leftovers, "the step ran in a container, and this suite cannot list containers");
    assertEquals(await t.leftovers(r.started), [], "the step's container is gone");
    return;
  }
  for (const { pid, start } of t.pids) {
    assertEquals(await isSameProcessAlive(pid, start), false, `process ${pid} is gone`);
  }
  if (r.started === undefined) return; // never started: nothing of it to look for
  assert(onHost(r.started), "the step's process group can be looked at only on Linux");
  assertEquals(groupPids(r.started.pgid), [], `process group ${r.started.pgid} is empty`);
}

/** Script lines `child <pid>` are tracked as grandchildren, when the step runs on this host. */
export const trackChildren = (t: Tracker) => async (e: StepEvent) => {
  const m = e.type === "output" ? /^child (\d+)$/.exec(e.line) : null;
  if (m) await t.trackPid(Number(m[1]), t.groups.at(-1));
};
