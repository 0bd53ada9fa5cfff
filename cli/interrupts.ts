// What Ctrl-C means while a command follows a run. Interrupting the terminal
// should not be the way a run is cancelled by accident: a first Ctrl-C only
// leaves the run going; a second one soon after, once the prompt has said so,
// is a deliberate cancel (issue 17).

/** How long after a first Ctrl-C a second one cancels the run instead. */
export const cancelWindowMs = 3_000;

/** The window from SWAMP_INTERRUPT_WINDOW_MS, else {@link cancelWindowMs}. */
export function cancelWindow(): number {
  const value = Number(Deno.env.get("SWAMP_INTERRUPT_WINDOW_MS"));
  return Number.isFinite(value) && value > 0 ? value : cancelWindowMs;
}

/** What the follower does at each turn; each is called at most once. */
export interface InterruptSteps {
  /** The first Ctrl-C: following goes on, and says a second one within the window cancels. */
  warn(windowMs: number): void;
  /** A second Ctrl-C within the window: ask for the cancel and follow it through. */
  cancel(): void;
  /** Stop following: the window passed (`detached`), or Ctrl-C came after the cancel was asked for. */
  stop(why: "detached" | "cancelling"): void;
}

interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Turns Ctrl-C presses (and the window passing) into the steps above. */
export class TerminalInterrupts {
  #state: "following" | "warned" | "cancelling" | "stopped" = "following";
  #timer: unknown;

  constructor(
    private readonly steps: InterruptSteps,
    private readonly windowMs = cancelWindow(),
    private readonly timers: Timers = realTimers,
  ) {}

  press(): void {
    switch (this.#state) {
      case "following":
        this.#state = "warned";
        this.steps.warn(this.windowMs);
        this.#timer = this.timers.set(() => this.#stop("detached"), this.windowMs);
        return;
      case "warned":
        this.#clearTimer();
        this.#state = "cancelling";
        this.steps.cancel();
        return;
      case "cancelling":
        this.#stop("cancelling");
        return;
      case "stopped":
        return;
    }
  }

  /** Following has ended: no window may fire after it. */
  dispose(): void {
    this.#clearTimer();
    this.#state = "stopped";
  }

  #stop(why: "detached" | "cancelling"): void {
    if (this.#state === "stopped") return;
    this.#clearTimer();
    this.#state = "stopped";
    this.steps.stop(why);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.timers.clear(this.#timer);
    this.#timer = undefined;
  }
}
