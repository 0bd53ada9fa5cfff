import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { bootId, hostName, isSameProcessAlive } from "../host/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { isSettledRun, RunStatus } from "./status.ts";

/** How long another host's owner may go without a heartbeat before its run counts as abandoned. */
export const heartbeatTtlMs = 60_000;
/** How long a run may sit pending with no owner (its supervisor never started). */
export const ownerStartGraceMs = 30_000;

export type OwnerVerdict = { alive: true } | { alive: false; reason: string };

/**
 * Whether a live process still owns a run that is not settled. On this host
 * the answer is immediate (the process is gone, or its pid now belongs to a
 * process that started at another time); another host's owner is judged by
 * its heartbeat.
 */
export async function judgeOwner(run: Run, clock: Clock): Promise<OwnerVerdict> {
  if (isSettledRun(run.status)) return { alive: true };
  const owner = run.owner;
  const now = clock.now().getTime();
  if (!owner || owner.pid === 0) {
    // A resumed run waits for its new supervisor from the time of the resume,
    // recorded as the heartbeat of an owner with no process yet.
    const since = owner?.heartbeatTime ?? run.createTime;
    const created = since ? timestampDate(since).getTime() : now;
    if (run.status === RunStatus.PENDING && now - created > ownerStartGraceMs) {
      return { alive: false, reason: "owner-never-started" };
    }
    return { alive: true };
  }
  if (owner.host === hostName()) {
    if (owner.bootId && owner.bootId !== await bootId()) {
      return { alive: false, reason: "owner-host-restarted" };
    }
    const same = await isSameProcessAlive(owner.pid, owner.processStart);
    if (same === false) return { alive: false, reason: "owner-process-not-alive" };
    if (same === true) return { alive: true };
  }
  const beat = owner.heartbeatTime ? timestampDate(owner.heartbeatTime).getTime() : 0;
  if (now - beat > heartbeatTtlMs) return { alive: false, reason: "owner-heartbeat-expired" };
  return { alive: true };
}
