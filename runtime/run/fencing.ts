import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";

// Owner epochs (DESIGN §13, docs/design/0011-owner-epochs.md): every claim of
// a run raises its epoch, and what an owner writes carries the epoch it
// claimed with, so a writer that was replaced cannot change the record any
// more, even if its append lands after the new owner's claim.

/** The run's current owner epoch; 0 before anyone claimed it. */
export function ownerEpochOf(run: Run): bigint {
  return run.owner?.epoch ?? 0n;
}

/**
 * Whether an event was written by an owner the run has had since: it stays
 * in the log, for the record, but changes nothing. Writers that never own a
 * run (cancel, approve, reconcile) write epoch 0 and are never fenced off.
 */
export function isFencedOff(epoch: bigint, event: RunEvent): boolean {
  return event.ownerEpoch !== 0n && event.ownerEpoch < epoch;
}

/**
 * A journal that owned a run found that another process claimed it since
 * (a higher owner epoch). It has written nothing more and writes nothing
 * again; the new owner decides what becomes of the run.
 */
export class OwnershipLost extends SwampError {
  constructor(readonly runId: string, readonly heldEpoch: bigint, readonly currentEpoch: bigint) {
    super(
      ErrorCode.STALE_LEASE,
      `run ${runId} was taken over (owner epoch ${currentEpoch}, this process held ${heldEpoch})`,
      { hint: `its new owner carries it on; see \`swamp workflow status ${runId.slice(0, 8)}\`` },
    );
    this.name = "OwnershipLost";
  }
}

/** Whether `error` says this process lost ownership of `runId` (not of some other run). */
export function isOwnershipLost(error: unknown, runId: string): error is OwnershipLost {
  return error instanceof OwnershipLost && error.runId === runId;
}
