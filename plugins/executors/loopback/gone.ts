// Whether anything is left of a step an earlier process started: asked
// before a step of an abandoned run starts again. Which processes are the
// step's is decided by the rules reap.ts explains, so what a reap would end
// is exactly what this finds still there.

import type { GoneCheck, RecordedProcess } from "../../../runtime/mod.ts";
import { isSameProcessAlive, processStartTime, processState } from "../../../runtime/mod.ts";
import { describe, groupMembers } from "./process_group.ts";

export async function confirmRecordedGone(p: RecordedProcess): Promise<GoneCheck> {
  const name = `process ${p.pid} (group ${p.pgid})`;
  if (p.executor !== "loopback") {
    return { gone: false, detail: `${name} was started by executor ${p.executor}, not loopback` };
  }
  if (!(p.pgid > 1)) return { gone: false, detail: `${name}: not a valid process group` };
  const members = groupMembers(p.pgid);
  // While a group has members its id is not handed out again, so an empty group is the answer.
  if (members.length === 0) {
    return { gone: true, detail: `${name}: no live process is left in its group` };
  }
  if (!/^\d+$/.test(p.processStart)) {
    return {
      gone: false,
      detail: `${name}: ${describe(members)} in its group, and with no recorded start time ` +
        "they cannot be told from processes that are not the step's",
    };
  }
  const alive = await isSameProcessAlive(p.pid, p.processStart);
  if (alive === undefined) {
    return { gone: false, detail: `${name}: this OS cannot tell whether it is the same process` };
  }
  if (alive) return { gone: false, detail: `${name}: the step's process is still running` };
  const [nowStart, state] = await Promise.all([processStartTime(p.pid), processState(p.pid)]);
  if (nowStart !== undefined && state !== "Z") {
    return {
      gone: true,
      detail: `${name}: the pid now belongs to another process, so the step's group is empty`,
    };
  }
  const recorded = BigInt(p.processStart);
  const ours = members.filter((q) => q.sid === p.pgid && BigInt(q.start) >= recorded);
  if (ours.length === 0) {
    return {
      gone: true,
      detail: `${name}: none of the step's processes is left (what is in the group is not the ` +
        "step's: another session, or started before it)",
    };
  }
  return { gone: false, detail: `${name}: ${describe(ours)} of the step still run` };
}
