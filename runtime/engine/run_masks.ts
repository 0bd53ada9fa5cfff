import { SecretMask } from "../text/secret_mask.ts";

/**
 * The SecretMask of each run this process executes, by run id. The engine
 * takes its run's mask from here when it starts and gives it back when it
 * stops; anything else in the process that hands a running step a secret
 * (the capability service answering `context.vault.get`) adds the value to
 * `of(runId)` before answering, so the run masks it wherever it writes it.
 */
export class RunMasks {
  private readonly masks = new Map<string, { mask: SecretMask; users: number }>();

  /** The run's mask; the same object for every caller while the run is held. */
  of(runId: string): SecretMask {
    let entry = this.masks.get(runId);
    if (!entry) this.masks.set(runId, entry = { mask: new SecretMask(), users: 0 });
    return entry.mask;
  }

  /** The engine holds the run's mask while it executes the run. */
  hold(runId: string): SecretMask {
    const mask = this.of(runId);
    this.masks.get(runId)!.users++;
    return mask;
  }

  /** Given back by the engine; forgotten when nobody holds it. */
  release(runId: string): void {
    const entry = this.masks.get(runId);
    if (!entry) return;
    if (--entry.users <= 0) this.masks.delete(runId);
  }
}
