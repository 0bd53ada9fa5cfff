import { StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { runStatusText } from "../runtime/mod.ts";
import type { RunTally } from "./run_tally.ts";

// The few lines a terminal shows while a run goes on, drawn from the tally.
// However many steps the run has, a frame is at most `summaryRows` lines of
// at most the terminal's width, and building it reads only what fits.

/** Colours for the summary; identity functions when colour is off. */
export interface Paint {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

export const plainPaint: Paint = {
  green: (t) => t,
  red: (t) => t,
  yellow: (t) => t,
  bold: (t) => t,
  dim: (t) => t,
};

const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;

/** ANSI colours, for a terminal without NO_COLOR. */
export const ansiPaint: Paint = {
  green: sgr("32"),
  red: sgr("31"),
  yellow: sgr("33"),
  bold: sgr("1"),
  dim: sgr("2"),
};

/** The most lines a frame has. */
export const summaryRows = 2;

/** A piece of a line: its text, and how to colour it. */
type Piece = [text: string, paint?: (text: string) => string];

/** `1m05s`, `12s`, `2h03m`. */
export function elapsedText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const others: [StepStatus, string, keyof Paint | undefined][] = [
  [StepStatus.FAILED, "failed", "red"],
  [StepStatus.ABANDONED, "abandoned", "red"],
  [StepStatus.CANCELLED, "cancelled", "yellow"],
  [StepStatus.SKIPPED, "skipped", "yellow"],
  [StepStatus.WAITING_APPROVAL, "waiting approval", "bold"],
  [StepStatus.QUEUED, "queued", undefined],
  [StepStatus.PENDING, "pending", undefined],
];

/**
 * The frame: the run's status, elapsed time and counts, then what is running
 * by name. `final` leaves the running line out (nothing runs any more).
 */
export function summaryLines(
  tally: RunTally,
  runLabel: string,
  nowMs: number,
  width: number,
  paint: Paint,
  final = false,
): string[] {
  const status = runStatusText(tally.runStatus) || "pending";
  const elapsed = tally.startMs === undefined ? "" : `  ${elapsedText(nowMs - tally.startMs)}`;
  const counts: Piece[] = [
    [`run ${runLabel} `],
    [status, status === "succeeded" ? paint.green : status === "failed" ? paint.red : paint.bold],
    [`${elapsed}  `],
    [`${tally.count(StepStatus.SUCCEEDED)} of ${tally.total} succeeded`, paint.green],
  ];
  if (tally.runningCount > 0) counts.push([", "], [`${tally.runningCount} running`, paint.bold]);
  for (const [value, text, colour] of others) {
    const n = tally.count(value);
    if (n > 0) counts.push([", "], [`${n} ${text}`, colour ? paint[colour] : undefined]);
  }
  const lines = [fit(counts, width)];
  if (!final && tally.runningCount > 0) lines.push(runningLine(tally, width, paint));
  return lines;
}

/** `running: a, b, c (+12 more)`, cut to the width, reading no more names than fit. */
function runningLine(tally: RunTally, width: number, paint: Paint): string {
  const head = "running: ";
  const names: string[] = [];
  let used = head.length;
  tally.runningLabels((label) => {
    const rest = tally.runningCount - names.length - 1;
    const tail = rest > 0 ? ` (+${rest} more)`.length : 0;
    const cost = (names.length > 0 ? 2 : 0) + label.length;
    if (used + cost + tail > width && names.length > 0) return false;
    names.push(label);
    used += cost;
    return used < width;
  });
  const more = tally.runningCount - names.length;
  const pieces: Piece[] = [[head, paint.dim], [names.join(", ")]];
  if (more > 0) pieces.push([` (+${more} more)`, paint.dim]);
  return fit(pieces, width);
}

/** Joins pieces, cut (with an ellipsis) so the visible text fits in `width` columns. */
export function fit(pieces: Piece[], width: number): string {
  let room = Math.max(1, width);
  let out = "";
  for (const [text, colour] of pieces) {
    if (room <= 0) break;
    let shown = [...text];
    if (shown.length > room) shown = [...shown.slice(0, Math.max(0, room - 1)), "…"];
    room -= shown.length;
    const joined = shown.join("");
    out += colour && joined ? colour(joined) : joined;
  }
  return out;
}
