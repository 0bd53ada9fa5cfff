// Ending what is left of a step whose owner died, without ever touching a
// process that only reuses a recorded number.
//
// What makes a process ours:
// - The recorded leader (pid) with the recorded start time, alive: it is the
//   step's main process, and while it lives its pid is its group id, so the
//   whole group is the step's. The group is stopped (SIGTERM, grace, SIGKILL)
//   and confirmed empty.
// - The pid alive with another start time: the number was reused. Linux does
//   not hand out a pid while any process still uses it as a group or session
//   id, so a reused pid also means the step's group is empty; any group with
//   that id now is the new process's. Nothing is touched.
// - The leader gone (or a zombie) but processes still in the group: while the
//   group has members its id cannot have been reused, so they are normally
//   the step's. As a second guard, against a pid reused by a process that
//   itself led a group and died, a member is ended only if it is in the
//   step's session (sid == pgid) and started no earlier than the recorded
//   leader (a step's processes are all forked after it). Each is signalled
//   by pid, its start time checked again just before.
// - No usable recorded start time (empty: the leader was gone before it
//   could be read): identity cannot be proven, so nothing is touched.
//
// Limitation: start times count clock ticks since boot, and RecordedProcess
// has no boot id; a record from before a reboot could match a process that
// has the same pid and start tick in this boot. Callers reap only records
// whose owner ran in this boot (the run record's owner has the boot id).

import type { RecordedProcess } from "../../../runtime/mod.ts";
import { isSameProcessAlive, processStartTime, processState } from "../../../runtime/mod.ts";
import {
  describe,
  listProcesses,
  type ProcInfo,
  readProc,
  stopGroup,
  TERM_KILL,
  waitUntilGone,
} from "./process_group.ts";

export interface ReapOptions {
  graceMs: number;
  killWaitMs: number;
}

export async function reapRecorded(p: RecordedProcess, options: ReapOptions): Promise<string[]> {
  const name = `process ${p.pid} (group ${p.pgid}, started at tick ${p.processStart || "?"})`;
  if (p.executor !== "loopback") {
    return [`${name}: recorded by executor ${p.executor}, not loopback; left alone`];
  }
  if (!/^\d+$/.test(p.processStart)) {
    return [`${name}: no recorded start time, so it cannot be told from a reused pid; left alone`];
  }
  if (!(p.pid > 1) || !(p.pgid > 1)) return [`${name}: not a valid pid; left alone`];
  const alive = await isSameProcessAlive(p.pid, p.processStart);
  if (alive === undefined) {
    return [`${name}: this OS cannot tell whether it is the same process; left alone`];
  }
  if (alive) {
    const lines: string[] = [];
    const result = await stopGroup(p.pgid, {
      stages: TERM_KILL,
      graceMs: options.graceMs,
      finalWaitMs: Math.max(options.killWaitMs, options.graceMs),
    }, (stage, detail) => lines.push(`${name}: ${stage}: ${detail}`));
    if (!result.confirmed) {
      lines.push(`${name}: still alive after SIGKILL: ${result.remaining.join(", ")}`);
    }
    return lines;
  }

  const [nowStart, state] = await Promise.all([processStartTime(p.pid), processState(p.pid)]);
  if (nowStart !== undefined && state !== "Z") {
    return [
      `${name}: pid ${p.pid} now belongs to another process (started at tick ${nowStart}); ` +
      "the step's processes are gone and the pid was reused; left alone",
    ];
  }

  const inGroup = listProcesses().filter((q) => q.pgid === p.pgid && q.state !== "Z");
  if (inGroup.length === 0) return [`${name}: already gone; nothing left in its group`];
  const recorded = BigInt(p.processStart);
  const ours = inGroup.filter((q) => q.sid === p.pgid && BigInt(q.start) >= recorded);
  const lines: string[] = [];
  const strangers = inGroup.filter((q) => !ours.includes(q));
  if (strangers.length > 0) {
    lines.push(
      `${name}: left alone ${describe(strangers)} in group ${p.pgid}: ` +
        "another session or started before the step, so not the step's",
    );
  }
  if (ours.length === 0) return lines;
  lines.push(`${name}: the leader is gone but ${describe(ours)} remain in its group`);
  const alivePids = (): ProcInfo[] => {
    const now = ours.map((q) => readProc(q.pid));
    return now.filter((q): q is ProcInfo =>
      q !== undefined && q.state !== "Z" && q.start === ours.find((o) => o.pid === q.pid)!.start
    );
  };
  let left = ours;
  for (const [i, { stage, signal }] of TERM_KILL.entries()) {
    left = alivePids();
    if (left.length === 0) break;
    for (const q of left) {
      try {
        Deno.kill(q.pid, signal);
      } catch {
        // already gone
      }
    }
    lines.push(`${name}: ${stage}: sent ${signal} to ${describe(left)}`);
    const wait = i === TERM_KILL.length - 1
      ? Math.max(options.killWaitMs, options.graceMs)
      : options.graceMs;
    left = await waitUntilGone(alivePids, wait);
  }
  lines.push(
    left.length === 0
      ? `${name}: confirmed: none of the step's processes is left in group ${p.pgid}`
      : `${name}: still alive after SIGKILL: ${left.map((q) => q.pid).join(", ")}`,
  );
  return lines;
}
