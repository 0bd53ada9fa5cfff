// Failures around a run that do not fail it (a heartbeat or a step's log lines
// the store refused) are recorded as RunWarning events, so none is silent.
import { create } from "@bufbuild/protobuf";
import { RunWarningSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { EventDraft, RunJournal } from "../run/journal.ts";

export interface Warning {
  source: "heartbeat" | "log";
  stepId?: string;
  message: string;
  count: number;
}

export function warningDraft(warning: Warning): EventDraft {
  return {
    reason: warning.message,
    payload: {
      case: "runWarning",
      value: create(RunWarningSchema, { ...warning, stepId: warning.stepId ?? "" }),
    },
  };
}

/** Appends the warning; resolves false when the store refuses that too. */
export function recordWarning(journal: RunJournal, warning: Warning): Promise<boolean> {
  return journal.append(warningDraft(warning)).then(() => true, () => false);
}

/**
 * Counts heartbeats the store refused and records them as one warning once a
 * write goes through again (or when the run ends), instead of dropping them.
 */
export class MissedHeartbeats {
  #count = 0;
  #error = "";

  failed(error: unknown): void {
    this.#count++;
    this.#error = error instanceof Error ? error.message : String(error);
  }

  /** Records what was missed, if anything; keeps counting if the store still refuses. */
  async report(journal: RunJournal): Promise<void> {
    if (this.#count === 0) return;
    const count = this.#count;
    const recorded = await recordWarning(journal, {
      source: "heartbeat",
      count,
      message: `${count} heartbeat${count === 1 ? "" : "s"} of the supervisor could not be ` +
        `written: ${this.#error}`,
    });
    if (recorded) this.#count -= count;
  }
}
