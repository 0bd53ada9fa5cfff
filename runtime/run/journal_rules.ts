// What a journal's writes follow, apart from the journal: the summary a write
// leads to, the owner epoch a claim gives its writer, and the refusal to go on
// when the store lost acknowledged writes.
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { StoreConflict } from "../ports/store.ts";
import { summarize } from "./fold.ts";
import { isFencedOff, ownerEpochOf } from "./fencing.ts";
import { isTerminalRun, RunStatus } from "./status.ts";

/** The summary a record would have after `events`, without touching the record. */
export function foldPreview(run: Run, events: RunEvent[]): RunSummary {
  const shallow = { ...run, owner: run.owner, waiting: run.waiting } as Run;
  const summary = summarize(shallow);
  // The same fencing as applyEvent, so the summary agrees with the record.
  let epoch = ownerEpochOf(run);
  for (const event of events) {
    if (isFencedOff(epoch, event)) continue;
    const p = event.payload;
    if (p.case === "ownerChanged") {
      const claimed = p.value.owner?.epoch ?? 0n;
      if (claimed > epoch) epoch = claimed;
    } else if (p.case === "runStatusChanged") {
      summary.status = p.value.to;
      if (isTerminalRun(p.value.to)) {
        summary.endTime = event.time;
        summary.waiting = undefined;
      } else if (isTerminalRun(p.value.from)) summary.endTime = undefined;
      if (p.value.to === RunStatus.PENDING) summary.waiting = undefined;
    } else if (p.case === "runResumed") {
      summary.attempt = p.value.attempt;
    } else if (p.case === "waitingChanged") {
      summary.waiting = p.value.waiting?.on.case ? p.value.waiting : undefined;
    }
  }
  return summary;
}

/**
 * The epoch an event makes its writer the owner with: an owner (with a
 * process or server identity) whose epoch is above the one held. A journal
 * that writes such an owner is that owner (the claim is its own write).
 */
export function claimedEpoch(payload: RunEvent["payload"], held: bigint): bigint {
  if (payload.case !== "ownerChanged") return held;
  const owner = payload.value.owner;
  const identified = owner !== undefined && (owner.pid !== 0 || owner.server !== "");
  return identified && owner.epoch > held ? owner.epoch : held;
}

/**
 * A run's log only grows, so a store that has fewer events than this writer
 * had stored has lost writes it acknowledged (a database restored from a
 * backup, or failed over to a replica that lagged). What the writer did after
 * them is not in the store; it stops rather than decide again from the older
 * record and repeat steps.
 */
export function refuseLostWrites(conflict: StoreConflict, stored: bigint): void {
  if (conflict.actualSeq >= stored) return;
  throw new SwampError(
    ErrorCode.CONFLICT,
    `the store lost acknowledged events of run ${conflict.runId}: this writer had stored up to ` +
      `event ${stored}, the store has ${conflict.actualSeq}`,
    {
      hint: "the database lost recent commits (a restore, or a failover to a replica that " +
        "lagged); the run is abandoned: check what its steps did, then resume it",
    },
  );
}
