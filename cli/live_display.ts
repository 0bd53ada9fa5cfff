import type { RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import type { Failure } from "./run_tally.ts";
import { RunTally } from "./run_tally.ts";
import { type Paint, plainPaint, summaryLines, summaryRows } from "./live_summary.ts";

// The live summary on a terminal (issue 17): a few lines at the bottom,
// redrawn in place at most every `frameMs`, with what must stay (failures,
// the run's output, prompts) printed above them. Events only update the
// tally; drawing happens on the timer, so a burst of a thousand events costs
// one frame, not a thousand.

/** At most this often a frame is drawn (10 a second). */
export const frameMs = 100;

/** Where the display writes; the real one is the terminal, tests use a buffer. */
export interface Screen {
  /** The summary's own stream (stderr). */
  status(text: string): void;
  /** The run's output (stdout), which may be the same terminal or a file. */
  output(text: string): void;
  columns(): number;
}

export const terminalScreen: Screen = {
  status: (text) => writeAll(Deno.stderr, text),
  output: (text) => writeAll(Deno.stdout, text),
  columns: () => {
    // A terminal that reports no size (a bare pseudo-terminal) is taken as 80 wide.
    try {
      return Deno.consoleSize().columns || 80;
    } catch {
      return 80;
    }
  },
};

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

type Above = { to: "status" | "output"; text: string };

export class LiveDisplay {
  readonly tally = new RunTally();
  #drawn = 0;
  #dirty = true;
  #above: Above[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #second = -1;
  /** How many frames were drawn: the tests' measure of redraw work. */
  frames = 0;

  constructor(
    private readonly runLabel: string,
    private readonly paint: Paint = plainPaint,
    private readonly screen: Screen = terminalScreen,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts drawing on the timer (tests call `draw` themselves instead). */
  start(run: Run): void {
    this.seed(run);
    this.#timer = setInterval(() => this.draw(), frameMs);
  }

  seed(run: Run): void {
    for (const failure of this.tally.seed(run)) this.#failed(failure);
    this.#dirty = true;
  }

  event(event: RunEvent): void {
    const failure = this.tally.apply(event);
    if (failure) this.#failed(failure);
    const p = event.payload;
    if (p.case === "cancelStageReached" && p.value.stage) {
      const { stage, stepId, detail } = p.value.stage;
      this.note(`• cancel: ${stage}${stepId ? ` ${stepId}` : ""}${detail ? `  ${detail}` : ""}`);
    }
    this.#dirty = true;
  }

  /** A line of the run's output, printed above the summary. */
  output(text: string): void {
    this.#above.push({ to: "output", text: `${text}\n` });
  }

  /** A message for the person at the terminal, printed above the summary. */
  note(text: string): void {
    this.#above.push({ to: "status", text: `${text}\n` });
  }

  /** Draws a frame if anything changed: erase the last, print what waits above, draw anew. */
  draw(final = false): void {
    // The elapsed time moves on once a second even when nothing else does.
    const second = Math.floor(this.now() / 1000);
    if (second !== this.#second) this.#dirty = true;
    if (!this.#dirty && this.#above.length === 0 && !final) return;
    this.#second = second;
    const width = Math.max(20, this.screen.columns() - 1);
    const lines = summaryLines(this.tally, this.runLabel, this.now(), width, this.paint, final);
    this.#erase();
    for (const above of this.#above) this.screen[above.to](above.text);
    this.#above = [];
    // One write per frame, with no trailing newline, so the next erase knows where it is.
    this.screen.status(lines.slice(0, summaryRows).join("\n") + (final ? "\n" : ""));
    this.#drawn = final ? 0 : lines.length;
    this.#dirty = false;
    this.frames++;
  }

  /** The last frame, left on the screen; nothing is drawn after it. */
  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.draw(true);
  }

  /** Takes the summary off the screen (before other output), without a final frame. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#erase();
    for (const above of this.#above) this.screen[above.to](above.text);
    this.#above = [];
  }

  #failed(failure: Failure): void {
    const what = failure.stepId === failure.label || failure.stepId.endsWith(`/${failure.label}`)
      ? failure.stepId
      : `${failure.label} (${failure.stepId})`;
    this.note(
      `${this.paint.red("✗")} ${what} ${this.paint.red(failure.status)}${
        failure.reason ? this.paint.dim(`  ${failure.reason}`) : ""
      }`,
    );
  }

  #erase(): void {
    if (this.#drawn === 0) return;
    // Back to the first line of the last frame, and clear to the end of the screen.
    const up = this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : "";
    this.screen.status(`\r${up}\x1b[J`);
    this.#drawn = 0;
  }
}
