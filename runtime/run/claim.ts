import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OwnerChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { type Owner, OwnerSchema, type Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Clock } from "../ports/clock.ts";
import { ownerEpochOf } from "./fencing.ts";
import type { EventDraft, RunJournal } from "./journal.ts";
import { judgeOwner, type OwnerVerdict } from "./liveness.ts";
import { isSettledRun } from "./status.ts";

/** Who a claimant is: everything of an owner but its epoch and heartbeat. */
export type OwnerIdentity = Pick<Owner, "host" | "bootId" | "pid" | "processStart" | "server">;

/**
 * Whether two owners are the same claimant. A pid alone is not an identity
 * (pids are reused, and a server runs many runs under one pid), so every
 * part counts.
 */
export function sameIdentity(a: OwnerIdentity, b: OwnerIdentity): boolean {
  return a.host === b.host && a.bootId === b.bootId && a.pid === b.pid &&
    a.processStart === b.processStart && a.server === b.server;
}

/** Whether `owner` is a claimant (a process or a server), not the empty owner of an unclaimed run. */
export function hasOwner(owner: Owner | undefined): owner is Owner {
  return owner !== undefined && (owner.pid !== 0 || owner.server !== "");
}

/** Whether the record still has the owner a verdict was reached on. */
function sameHolder(run: Run, judged: Owner | undefined): boolean {
  const now = run.owner;
  if (!hasOwner(now) || !hasOwner(judged)) return hasOwner(now) === hasOwner(judged);
  return sameIdentity(now, judged) && now.epoch === judged.epoch;
}

/** How many times a claim re-judges an owner that changed under it before giving up. */
const maxJudgements = 5;

/**
 * Claims a run for `me` through `journal`: one conditional write of an owner
 * with the run's epoch plus one, which makes the journal the owner (its
 * writes carry that epoch from then on). Refused (false) when the run is
 * settled or a live owner with another identity holds it. Liveness is judged
 * before the write (it reads /proc); if the owner changed by the time the
 * write is decided, it is judged again rather than trusted. `then` adds what
 * the new owner writes first, decided on the same record, to the same write.
 */
export async function claimRun(
  journal: RunJournal,
  me: OwnerIdentity,
  clock: Clock,
  reason: string,
  then: (run: Run) => EventDraft[] = () => [],
): Promise<boolean> {
  for (let judgement = 0; judgement < maxJudgements; judgement++) {
    const judged = journal.run.owner;
    const verdict: OwnerVerdict = await judgeOwner(
      journal.run,
      clock,
      journal.store.instances,
      "claim",
    );
    let rejudge = false;
    const written = await journal.write((run) => {
      if (isSettledRun(run.status)) return undefined;
      if (!sameHolder(run, judged)) {
        rejudge = true;
        return undefined;
      }
      if (hasOwner(run.owner) && !sameIdentity(run.owner, me) && verdict.alive) return undefined;
      const owner = create(OwnerSchema, {
        host: me.host,
        bootId: me.bootId,
        pid: me.pid,
        processStart: me.processStart,
        server: me.server,
        heartbeatTime: timestampFromDate(clock.now()),
        epoch: ownerEpochOf(run) + 1n,
      });
      return [{
        reason,
        payload: { case: "ownerChanged", value: create(OwnerChangedSchema, { owner }) },
      }, ...then(run)];
    });
    if (written.length > 0) return true;
    if (!rejudge) return false;
  }
  return false;
}
