import type { LogLine, RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import {
  ReadLogsResponseSchema,
  WatchRunEventsResponseSchema,
} from "../proto/gen/swamp/v1/run_service_pb.ts";
import { create } from "@bufbuild/protobuf";
import { type Run, StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { runStatusText, stemOf, stepStatusText } from "../runtime/mod.ts";
import type { Output } from "./output.ts";
import { paintStatus, waitingText } from "./render_run.ts";
import { cliJson } from "./json_shape.ts";
import { LiveDisplay } from "./live_display.ts";
import { ansiPaint, plainPaint } from "./live_summary.ts";

// How a followed run is shown (issue 17): on a terminal, a live summary;
// otherwise a line per change as it happens; under --json, one JSON object
// per line (NDJSON) from the first event on.

/** What following shows; the follower calls these in the run's order. */
export interface FollowView {
  /** Whether `begin` takes in everything so far, so older events need not be read. */
  readonly fromSnapshot: boolean;
  /** The run as it stood when following began (before any event). */
  begin(run: Run): void;
  event(event: RunEvent): void;
  line(line: LogLine): void;
  /** A message for the person at the terminal (prompts): stderr, even under --json. */
  note(text: string): void;
  /** Following has ended: the run settled (`settled`) or the follower left it. */
  end(settled: boolean): void;
}

/** The view for this command's output: --json, a terminal, or plain lines. */
export function followView(out: Output, runId: string): FollowView {
  if (out.json) return new JsonView(out);
  const terminal = Deno.stderr.isTerminal() && Deno.env.get("TERM") !== "dumb";
  if (terminal && !out.quiet) return new LiveView(out, runId.slice(0, 8));
  return new LineView(out);
}

export function logLineText(out: Output, line: LogLine): string {
  const tag = line.stepId || "run";
  const text = line.stream === "stderr"
    ? out.yellow(line.text)
    : line.stream === "system"
    ? out.dim(line.text)
    : line.text;
  return `${out.dim(`[${tag}]`)} ${text}`;
}

class LineView implements FollowView {
  readonly fromSnapshot = false;
  constructor(private readonly out: Output) {}
  begin(): void {}
  event(event: RunEvent): void {
    const text = eventText(this.out, event);
    if (text) this.out.info(text);
  }
  line(line: LogLine): void {
    this.out.line(logLineText(this.out, line));
  }
  note(text: string): void {
    this.out.stderr(`${text}\n`);
  }
  end(): void {}
}

/**
 * NDJSON: `{"event": …}` for each event and `{"line": …}` for each log line,
 * the messages WatchRunEvents and ReadLogs stream, in the CLI's JSON shape.
 * The command then writes the run's final state as the last line.
 */
class JsonView implements FollowView {
  readonly fromSnapshot = false;
  constructor(private readonly out: Output) {}
  begin(): void {}
  event(event: RunEvent): void {
    const message = create(WatchRunEventsResponseSchema, { event });
    this.out.raw(`${JSON.stringify(cliJson(WatchRunEventsResponseSchema, message))}\n`);
  }
  line(line: LogLine): void {
    const message = create(ReadLogsResponseSchema, { line });
    this.out.raw(`${JSON.stringify(cliJson(ReadLogsResponseSchema, message))}\n`);
  }
  note(text: string): void {
    this.out.stderr(`${text}\n`);
  }
  end(): void {}
}

class LiveView implements FollowView {
  readonly fromSnapshot = true;
  readonly #display: LiveDisplay;
  constructor(private readonly out: Output, runLabel: string) {
    this.#display = new LiveDisplay(runLabel, out.stderrColor ? ansiPaint : plainPaint);
  }
  begin(run: Run): void {
    this.#display.start(run);
  }
  event(event: RunEvent): void {
    this.#display.event(event);
  }
  line(line: LogLine): void {
    this.#display.output(logLineText(this.out, line));
  }
  note(text: string): void {
    this.#display.note(text);
  }
  end(settled: boolean): void {
    if (settled) this.#display.finish();
    else this.#display.stop();
  }
}

/** One line for a change worth a line when not on a terminal; undefined for the rest. */
/**
 * A step id as a line names it: a fan-out whose name is templated
 * (`build/compile ${{ self.region }}`) by its stem (`build/compile`), what a
 * later step reads it as; its items carry their resolved names already.
 */
function shownStepId(stepId: string): string {
  const slash = stepId.indexOf("/");
  const name = stepId.slice(slash + 1);
  const stem = name.includes("${{") ? stemOf(name) : "";
  return stem ? `${stepId.slice(0, slash + 1)}${stem}` : stepId;
}

export function eventText(out: Output, event: RunEvent): string | undefined {
  const p = event.payload;
  const why = event.reason ? out.dim(`  ${event.reason}`) : "";
  if (p.case === "stepStatusChanged" && p.value.from !== p.value.to && !p.value.added) {
    // A step with `retry:` says which attempt starts, so a watcher sees the count.
    const attempt = p.value.retry && p.value.to === StepStatus.RUNNING
      ? out.dim(`  attempt ${p.value.retry.attempt} of ${p.value.retry.attempts}`)
      : "";
    return `${out.dim("•")} ${shownStepId(p.value.stepId)} ${
      paintStatus(out, stepStatusText(p.value.to))
    }${attempt}${why}`;
  }
  if (p.case === "runWarning") {
    return `${out.dim("•")} ${out.yellow(`warning: ${p.value.message}`)}`;
  }
  if (p.case === "runStatusChanged") {
    return `${out.dim("•")} run ${paintStatus(out, runStatusText(p.value.to))}${why}`;
  }
  if (p.case === "cancelStageReached" && p.value.stage) {
    const { stage, stepId, detail } = p.value.stage;
    return `${out.dim("•")} cancel: ${stage} ${stepId} ${out.dim(detail)}`;
  }
  if (p.case === "waitingChanged" && p.value.waiting?.on.case) {
    const on = p.value.waiting.on.case;
    if (on === "lock" || on === "hostSlot" || on === "worker" || on === "retry") {
      return `${out.dim("•")} ${p.value.stepId} waits for ${waitingText(p.value.waiting)}`;
    }
  }
  return undefined;
}
