import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import type { LogLine, RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import { StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { isSettledRun, isTerminalStep } from "../runtime/mod.ts";

// A followed run arrives as two streams polled apart, its events and its log,
// so either can be ahead by a poll or two. Printed as they come, a step's
// output showed up before the step was running, or after it had succeeded.
// Each item waits `holdMs` after it arrives, then the two streams are merged
// by the time the run recorded for each item.

interface Pending {
  time: number;
  arrived: number;
  print: () => void;
  /** For an event: it ends something (a step, the run), so its output goes first. */
  closing: boolean;
}

export class FollowMerge {
  private readonly events: Pending[] = [];
  private readonly lines: Pending[] = [];

  constructor(private readonly holdMs: number, private readonly now: () => number = Date.now) {}

  addEvent(event: RunEvent, print: () => void): void {
    this.push(this.events, event.time, print, closes(event));
  }

  addLine(line: LogLine, print: () => void): void {
    this.push(this.lines, line.time, print, false);
  }

  private push(queue: Pending[], time: Timestamp | undefined, print: () => void, closing: boolean) {
    const arrived = this.now();
    queue.push({ time: time ? Number(timestampMs(time)) : arrived, arrived, print, closing });
  }

  /** Prints, in the run's order, what has waited long enough; everything when `all`. */
  flush(all = false): void {
    const ripe = (item: Pending) => all || this.now() - item.arrived >= this.holdMs;
    for (;;) {
      const event = this.events[0];
      const line = this.lines[0];
      if (!event && !line) return;
      const takeLine = !event ||
        (line !== undefined &&
          (line.time < event.time || (line.time === event.time && event.closing)));
      const next = takeLine ? line! : event;
      // Anything the other stream still brings would be newer than what waited this long.
      if (!ripe(next)) return;
      (takeLine ? this.lines : this.events).shift();
      next.print();
    }
  }
}

function closes(event: RunEvent): boolean {
  const p = event.payload;
  if (p.case === "stepStatusChanged") {
    return isTerminalStep(p.value.to) || p.value.to === StepStatus.WAITING_APPROVAL;
  }
  return p.case === "runStatusChanged" && isSettledRun(p.value.to);
}
