// Process groups as Linux shows them in /proc: who is in a group, signalling
// it, and the staged stop (interrupt → terminate → kill → confirm) that a
// cancel, a timeout and a reap all use.
//
// "Empty" means no live process has the group id: zombies are dead (they
// hold no resources and run nothing; their parent or init reaps them) and
// are not counted, so a group whose members were killed but not yet reaped
// counts as gone. kill(-pgid, 0) cannot tell that apart, so /proc is read.

import type { CancelStageName } from "../../../runtime/mod.ts";

export interface ProcInfo {
  pid: number;
  /** State letter: R, S, D, Z, … */
  state: string;
  pgid: number;
  sid: number;
  /** /proc/<pid>/stat field 22, clock ticks since boot. */
  start: string;
}

/**
 * Every process visible in /proc (empty when /proc cannot be read). Read
 * synchronously: a full scan takes about a millisecond for a hundred
 * processes, several times faster than the same reads through async ops,
 * and a stop polls it often.
 */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const info = readProc(Number(entry.name));
      if (info) out.push(info);
    }
  } catch {
    return out;
  }
  return out;
}

export function readProc(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  return parseStat(stat, pid);
}

/** The fields of a /proc/<pid>/stat text that matter here. */
export function parseStat(stat: string, pid: number): ProcInfo {
  // Field 2 (the command) is parenthesised and may hold spaces or ")".
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { pid, state: f[0], pgid: Number(f[2]), sid: Number(f[3]), start: f[19] };
}

/**
 * The live (non-zombie) members of process group `pgid`. When the kernel
 * says the group does not exist at all (the usual case once a step has
 * ended), /proc is not scanned: a scan costs a file read per process.
 * Deno.kill takes no signal 0, so the probe is SIGCONT, which changes
 * nothing for a running process (and lets a stopped one die when signalled).
 */
export function groupMembers(pgid: number): ProcInfo[] {
  if (pgid > 1 && !groupExists(pgid)) return [];
  return listProcesses().filter((p) => p.pgid === pgid && p.state !== "Z");
}

/**
 * False once no process, not even a zombie, has the group id: then none can
 * ever join it again (setpgid needs an existing group).
 */
export function groupExists(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGCONT");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
  }
  return true;
}

/** Sends `sig` to every process of the group; false when the group does not exist. */
export function signalGroup(pgid: number, sig: Deno.Signal): boolean {
  if (!(pgid > 1)) return false; // never -1 (everything) or -0 (our own group)
  try {
    Deno.kill(-pgid, sig);
    return true;
  } catch {
    return false; // ESRCH (NotFound), or EPERM: not ours to signal
  }
}

/**
 * Polls until `members()` is empty or `ms` have passed; returns what is left.
 * Polls often at first (a well-behaved process exits within milliseconds),
 * then every 50 ms.
 */
export async function waitUntilGone(
  members: () => ProcInfo[],
  ms: number,
): Promise<ProcInfo[]> {
  const deadline = performance.now() + ms;
  let pause = 5;
  while (true) {
    const left = members();
    if (left.length === 0 || performance.now() >= deadline) return left;
    await sleep(Math.min(pause, Math.max(1, deadline - performance.now())));
    pause = Math.min(pause * 2, 50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface StopOptions {
  /** Signals in order, each with the stage it reports. */
  stages: { stage: Exclude<CancelStageName, "confirmed">; signal: Deno.Signal }[];
  /** Wait after each signal but the last. */
  graceMs: number;
  /** Wait after the last signal (normally SIGKILL) before giving up on confirming. */
  finalWaitMs: number;
}

export interface StopResult {
  confirmed: boolean;
  /** Pids still alive when confirming gave up (empty when confirmed). */
  remaining: number[];
}

export const INT_TERM_KILL: StopOptions["stages"] = [
  { stage: "interrupted", signal: "SIGINT" },
  { stage: "terminated", signal: "SIGTERM" },
  { stage: "killed", signal: "SIGKILL" },
];
export const TERM_KILL: StopOptions["stages"] = INT_TERM_KILL.slice(1);

/**
 * Stops a whole process group in stages, calling `report` for each stage it
 * takes and for "confirmed" once no live process has the group id. Stages
 * after the group is empty are skipped. Callers must own the group (a live
 * leader they started or verified by start time): the kernel does not reuse
 * a pid while it is still some process's group id, so the group cannot
 * change owner while it has members.
 */
export async function stopGroup(
  pgid: number,
  options: StopOptions,
  report: (stage: CancelStageName, detail: string) => void,
): Promise<StopResult> {
  const members = () => groupMembers(pgid);
  let left = members();
  for (const [i, { stage, signal }] of options.stages.entries()) {
    if (left.length === 0) break;
    const sent = signalGroup(pgid, signal);
    report(
      stage,
      sent
        ? `sent ${signal} to process group ${pgid} (${describe(left)})`
        : `could not signal process group ${pgid} with ${signal} (gone or not permitted)`,
    );
    const last = i === options.stages.length - 1;
    left = await waitUntilGone(members, last ? options.finalWaitMs : options.graceMs);
  }
  if (left.length === 0) {
    report("confirmed", `process group ${pgid} is empty: no live process has that group id`);
    return { confirmed: true, remaining: [] };
  }
  return { confirmed: false, remaining: left.map((p) => p.pid) };
}

export function describe(procs: ProcInfo[]): string {
  const pids = procs.map((p) => p.pid);
  const shown = pids.length > 8 ? `${pids.slice(0, 8).join(", ")}, …` : pids.join(", ");
  return `${pids.length} process${pids.length === 1 ? "" : "es"}: ${shown}`;
}
