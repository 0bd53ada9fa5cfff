// A clock that moves only when a test moves it: for the engine's deadlines
// (approval gates' expiry) without waiting for them.
import type { Clock } from "../../runtime/mod.ts";

export class FakeClock implements Clock {
  #ms: number;

  constructor(start = new Date("2026-06-01T12:00:00Z")) {
    this.#ms = start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  /** Moves time on by `ms`; what compares against now() sees it at its next look. */
  advance(ms: number): void {
    this.#ms += ms;
  }
}
