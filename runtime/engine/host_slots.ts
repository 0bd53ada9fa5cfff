import { create } from "@bufbuild/protobuf";
import { WaitingChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { HostSlotWaitSchema, WaitingSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { SlotLease, StepSlots } from "../ports/step_slots.ts";
import type { RunJournal } from "../run/journal.ts";
import { sleep } from "./locks.ts";

/**
 * Waits for one of the host's step slots (the host-wide ceiling). Taken
 * after the step's locks, so a step that holds a slot never waits for
 * anything else and slots always come free. A step that has to wait says
 * so on the run (once), and clears it when it gets one; no slots, no wait.
 * Throws when `signal` aborts (a cancel of the waiting step).
 */
export async function takeHostSlot(
  slots: StepSlots | undefined,
  journal: RunJournal,
  stepId: string,
  signal: AbortSignal,
  pollMs: number,
): Promise<SlotLease | undefined> {
  if (!slots) return undefined;
  let shown = false;
  for (;;) {
    signal.throwIfAborted();
    const lease = slots.tryTake();
    if (lease) {
      if (shown) {
        // A slot is never kept by a step that failed to say it stopped waiting.
        await journal.append(waitingDraft(stepId, undefined)).catch((error) => {
          lease.release();
          throw error;
        });
      }
      return lease;
    }
    if (!shown) {
      shown = true;
      await journal.append(waitingDraft(stepId, slots));
    }
    // Jittered, so steps of many runs waiting together do not poll in step.
    await sleep(pollMs / 2 + Math.random() * pollMs, signal);
  }
}

function waitingDraft(stepId: string, slots: StepSlots | undefined) {
  return {
    reason: slots
      ? `waiting for a host step slot: all ${slots.limit} in ${slots.where} are taken`
      : "",
    payload: {
      case: "waitingChanged" as const,
      value: create(WaitingChangedSchema, {
        stepId,
        waiting: create(
          WaitingSchema,
          slots
            ? {
              on: {
                case: "hostSlot",
                value: create(HostSlotWaitSchema, { dir: slots.where, limit: slots.limit }),
              },
            }
            : {},
        ),
      }),
    },
  };
}
