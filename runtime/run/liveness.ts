import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { bootId, hostName, isSameProcessAlive } from "../host/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { type InstanceRegistry, isLapsed } from "../ports/instances.ts";
import { isSettledRun, RunStatus } from "./status.ts";

/** How long another host's owner may go without a heartbeat before its run counts as abandoned. */
export const heartbeatTtlMs = 60_000;
/** How long a run may sit pending with no owner (its supervisor never started). */
export const ownerStartGraceMs = 30_000;

export type OwnerVerdict = { alive: true } | { alive: false; reason: string };

/**
 * Why a verdict is asked: a `claim` (takeover) wants to know whether the
 * owner itself is dead; a `read` (which reconciles a dead owner's run) must
 * leave a lapsed instance's run to the live instances that take it over.
 */
export type Judging = "read" | "claim";

/**
 * Whether a live process still owns a run that is not settled. On this host
 * the answer is immediate (the process is gone, or its pid now belongs to a
 * process that started at another time); another host's owner is judged by
 * its heartbeat.
 */
export async function judgeOwner(
  run: Run,
  clock: Clock,
  instances?: InstanceRegistry,
  judging: Judging = "read",
): Promise<OwnerVerdict> {
  if (isSettledRun(run.status)) return { alive: true };
  const owner = run.owner;
  const now = clock.now().getTime();
  // On a store several machines share, a server instance is judged by its heartbeat there (0027).
  if (owner?.server && instances) return await judgeInstance(owner.server, instances, judging);
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

/**
 * A server instance owner on a shared store: alive while its heartbeat
 * beats. A lapsed one's run is left to a live instance's takeover when a
 * read asks; only with no live instance left is it abandoned.
 */
async function judgeInstance(
  id: string,
  instances: InstanceRegistry,
  judging: Judging,
): Promise<OwnerVerdict> {
  const all = await instances.list();
  const mine = all.find((i) => i.id === id);
  if (mine && !isLapsed(mine)) return { alive: true };
  if (judging === "read" && all.some((i) => i.id !== id && !isLapsed(i))) return { alive: true };
  return { alive: false, reason: mine ? "owner-instance-lapsed" : "owner-instance-gone" };
}
