// Flushing (fdatasync) a run's events file off the writer's path, for appends
// made with `flushLater` (decision record 0034): the append returns once its
// lines are written, which every process reads and which survive the
// writer's crash, and the flush runs on Deno's thread pool meanwhile. The
// engine waits on `flushed(runId)` before it starts a step's process, so the
// step before is on disk before anything after it happens.
//
// A flush started before a later write may miss it: such a write asks for
// one more round, and `flushed` waits until no round is left.

interface Flushing {
  done: Promise<void>;
  again: boolean;
}

export class BackgroundFlushes {
  private readonly runs = new Map<string, Flushing>();
  private readonly failures = new Map<string, unknown>();

  /** Flushes `path` (the run's events file) soon, covering everything written to it so far. */
  schedule(runId: string, path: string): void {
    const running = this.runs.get(runId);
    if (running) {
      running.again = true;
      return;
    }
    const state: Flushing = { done: Promise.resolve(), again: true };
    // Registered first: a flush that fails at once has ended before `rounds` returns.
    this.runs.set(runId, state);
    state.done = this.rounds(runId, path, state);
  }

  private async rounds(runId: string, path: string, state: Flushing): Promise<void> {
    try {
      while (state.again) {
        state.again = false;
        // fdatasync flushes the file's data whichever descriptor asks.
        const file = Deno.openSync(path, { read: true });
        try {
          await file.syncData();
        } finally {
          file.close();
        }
      }
    } catch (error) {
      this.failures.set(runId, error);
    } finally {
      if (this.runs.get(runId) === state) this.runs.delete(runId);
    }
  }

  /** Resolves once what was written to the run before this call is flushed; throws a failed flush's error once. */
  async flushed(runId: string): Promise<void> {
    await this.runs.get(runId)?.done;
    const failure = this.takeFailure(runId);
    if (failure !== undefined) throw failure;
  }

  /**
   * A failed flush of the run nobody has been told of yet, now told: a write
   * flushed on the spot would not see it (the kernel reports a write-back
   * error to the descriptors open when it happened), so it fails instead.
   */
  takeFailure(runId: string): unknown {
    const failure = this.failures.get(runId);
    this.failures.delete(runId);
    return failure;
  }

  /** Waits for every flush under way. */
  async settle(): Promise<void> {
    await Promise.all([...this.runs.values()].map((state) => state.done));
  }
}
