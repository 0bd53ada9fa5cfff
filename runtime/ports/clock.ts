/** Time, behind a port so tests can control it. */
export interface Clock {
  now(): Date;
  /**
   * Resolves after `ms` of this clock's time, or early when `signal` aborts.
   * Optional: a clock without it waits in real time.
   */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Waits `ms` on `clock`; true when the full time passed, false when `signal`
 * aborted first (at once, even mid-wait: a cancel does not sit out a backoff).
 */
export async function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (clock.sleep) {
    await clock.sleep(ms, signal);
    return !signal.aborted;
  }
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
  return !signal.aborted;
}
