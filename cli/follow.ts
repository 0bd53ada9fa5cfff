import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { LogLine } from "../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import { RunStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import type { CommandContext } from "./context.ts";
import type { Output } from "./output.ts";
import { type FollowView, followView, logLineText } from "./follow_views.ts";
import { FollowMerge } from "./follow_merge.ts";
import { exitCodeFor } from "./exit_codes.ts";
import { TerminalInterrupts } from "./interrupts.ts";

/**
 * How long a followed item waits for the other stream before it is printed:
 * both streams poll every 150 ms (runtime/services/run_reads.ts).
 */
const followHoldMs = 400;

export function printLogLine(out: Output, line: LogLine): void {
  out.line(logLineText(out, line));
}

/** How following ended: the run settled, or the follower left it going. */
export type Followed = { final: Run } | { left: "detached" | "cancelling" };

/**
 * Follows a run's events and log until it is settled, printing both. Ctrl-C
 * leaves the run going unless a second one follows within the window
 * (cli/interrupts.ts); the prompts answer a keypress, so they reach stderr
 * even under --json or -q.
 */
export async function followRun(
  ctx: CommandContext,
  runId: string,
  since?: { eventSeq: bigint; time: Date },
): Promise<Followed> {
  let left: "detached" | "cancelling" = "detached";
  let cancelAsked: Promise<unknown> | undefined;
  const stopFollowing = new AbortController();
  const view: FollowView = followView(ctx.out, runId);
  const say = (text: string) => view.note(text);
  const interrupts = new TerminalInterrupts({
    warn: (ms) =>
      say(
        ctx.out.yellow(
          `detaching: the run goes on. Ctrl-C again within ${ms / 1000} s cancels it.`,
        ),
      ),
    cancel: () => {
      say(ctx.out.yellow("cancelling… (Ctrl-C again stops following; the cancel goes on)"));
      cancelAsked = ctx.runs.cancelRun({
        runId,
        reason: "interrupted from the terminal",
        noWait: true,
      }).catch((error) => say(`cancel failed: ${error.message}`));
    },
    stop: (why) => {
      left = why;
      stopFollowing.abort();
    },
  });
  const onInterrupt = () => interrupts.press();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const merge = new FollowMerge(followHoldMs);
  const flusher = setInterval(() => merge.flush(), 50);
  let settled = false;
  try {
    const start = (await ctx.runs.getRun({ runId })).run!;
    view.begin(start);
    const events = (async () => {
      // A view that starts from the run as it stands needs no event it already holds.
      const from = since?.eventSeq ?? 0n;
      const afterSeq = view.fromSnapshot && start.revision > from ? start.revision : from;
      for await (const { event } of ctx.runs.watchRunEvents({ runId, follow: true, afterSeq })) {
        if (stopFollowing.signal.aborted) return;
        if (event) merge.addEvent(event, () => view.event(event));
      }
    })();
    const logs = (async () => {
      for await (const { line } of ctx.runs.readLogs({ runId, follow: true })) {
        if (stopFollowing.signal.aborted) return;
        if (!line) continue;
        // A resumed run's earlier lines were shown by the attempt that wrote them.
        if (since && line.time && timestampDate(line.time) < since.time) continue;
        merge.addLine(line, () => view.line(line));
      }
    })();
    const stopped = new Promise<"stopped">((resolve) =>
      stopFollowing.signal.addEventListener("abort", () => resolve("stopped"), { once: true })
    );
    if (
      await Promise.race([Promise.all([events, logs]).then(() => "done" as const), stopped]) ===
        "stopped"
    ) {
      // Leaving before the cancel is written would lose it: the command exits next.
      await cancelAsked;
      return { left };
    }
    const final = (await ctx.runs.getRun({ runId })).run!;
    settled = true;
    return { final };
  } finally {
    interrupts.dispose();
    clearInterval(flusher);
    merge.flush(true);
    view.end(settled);
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/**
 * What to say when the command leaves a run that goes on: how to follow,
 * wait for, see or cancel it (not cancel when a cancel is under way).
 */
export function leftRunHints(runId: string, left: "detached" | "cancelling"): string[] {
  const id = runId.slice(0, 8);
  return [
    left === "detached"
      ? `detached: run ${id} goes on.`
      : `stopped following: the cancel of run ${id} goes on.`,
    `  follow it:   swamp workflow logs ${id} --follow`,
    `  wait for it: swamp workflow wait ${id}`,
    `  see it:      swamp workflow status ${id}`,
    ...(left === "detached" ? [`  cancel it:   swamp workflow cancel ${id}`] : []),
  ];
}

/** The exit status for a run's outcome. */
export function outcomeExit(run: Run | undefined): string | undefined {
  switch (run?.status) {
    case RunStatus.SUCCEEDED:
      return undefined;
    case RunStatus.FAILED:
      return "run_failed";
    case RunStatus.CANCELLED:
      return "run_cancelled";
    case RunStatus.ABANDONED:
      return "run_abandoned";
    case RunStatus.SUSPENDED:
      return "run_suspended";
    default:
      return undefined;
  }
}

/** The exit status for a run's state as it is now: its outcome, or `run_active` (13) while it goes on. */
export function stateExit(run: Run): number {
  const outcome = outcomeExit(run);
  if (outcome) return exitCodeFor(outcome);
  return run.status === RunStatus.SUCCEEDED ? 0 : exitCodeFor("run_active");
}
