import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { LogLine, RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import { RunStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { runStatusText, stepStatusText } from "../runtime/mod.ts";
import type { CommandContext } from "./context.ts";
import type { Output } from "./output.ts";
import { paintStatus, waitingText } from "./render_run.ts";
import { FollowMerge } from "./follow_merge.ts";
import { exitCodeFor } from "./exit_codes.ts";

/**
 * How long a followed item waits for the other stream before it is printed:
 * both streams poll every 150 ms (runtime/services/run_reads.ts).
 */
const followHoldMs = 400;

export function printLogLine(out: Output, line: LogLine): void {
  const tag = line.stepId || "run";
  const text = line.stream === "stderr"
    ? out.yellow(line.text)
    : line.stream === "system"
    ? out.dim(line.text)
    : line.text;
  out.line(`${out.dim(`[${tag}]`)} ${text}`);
}

function printEvent(out: Output, event: RunEvent): void {
  const p = event.payload;
  if (p.case === "stepStatusChanged" && p.value.from !== p.value.to && !p.value.added) {
    const status = stepStatusText(p.value.to);
    out.info(
      `${out.dim("•")} ${p.value.stepId} ${paintStatus(out, status)}${
        event.reason ? out.dim(`  ${event.reason}`) : ""
      }`,
    );
  } else if (p.case === "runStatusChanged") {
    out.info(
      `${out.dim("•")} run ${paintStatus(out, runStatusText(p.value.to))}${
        event.reason ? out.dim(`  ${event.reason}`) : ""
      }`,
    );
  } else if (p.case === "cancelStageReached" && p.value.stage) {
    out.info(
      `${out.dim("•")} cancel: ${p.value.stage.stage} ${p.value.stage.stepId} ${
        out.dim(p.value.stage.detail)
      }`,
    );
  } else if (p.case === "waitingChanged" && p.value.waiting?.on.case) {
    const on = p.value.waiting.on.case;
    if (on === "lock" || on === "hostSlot" || on === "worker") {
      out.info(`${out.dim("•")} ${p.value.stepId} waits for ${waitingText(p.value.waiting)}`);
    }
  }
}

/**
 * Follows a run's events and log until it is settled, printing both; the
 * first Ctrl-C asks for a cancel, a second stops following (the run goes on).
 * Returns the final record.
 */
export async function followRun(
  ctx: CommandContext,
  runId: string,
  since?: { eventSeq: bigint; time: Date },
): Promise<Run | undefined> {
  let interrupts = 0;
  const stopFollowing = new AbortController();
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      ctx.out.info("cancelling… (Ctrl-C again to stop watching; the cancel goes on)");
      ctx.runs.cancelRun({
        runId,
        reason: "interrupted from the terminal",
        noWait: true,
      })
        .catch((error) => ctx.out.info(`cancel failed: ${error.message}`));
    } else {
      stopFollowing.abort();
    }
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const merge = new FollowMerge(followHoldMs);
  const flusher = setInterval(() => merge.flush(), 50);
  try {
    const events = (async () => {
      const afterSeq = since?.eventSeq ?? 0n;
      for await (const { event } of ctx.runs.watchRunEvents({ runId, follow: true, afterSeq })) {
        if (stopFollowing.signal.aborted) return;
        if (event && !ctx.out.json) merge.addEvent(event, () => printEvent(ctx.out, event));
      }
    })();
    const logs = (async () => {
      for await (const { line } of ctx.runs.readLogs({ runId, follow: true })) {
        if (stopFollowing.signal.aborted) return;
        if (!line || ctx.out.json) continue;
        // A resumed run's earlier lines were shown by the attempt that wrote them.
        if (since && line.time && timestampDate(line.time) < since.time) continue;
        merge.addLine(line, () => printLogLine(ctx.out, line));
      }
    })();
    const stopped = new Promise<"stopped">((resolve) =>
      stopFollowing.signal.addEventListener("abort", () => resolve("stopped"), { once: true })
    );
    if (
      await Promise.race([Promise.all([events, logs]).then(() => "done" as const), stopped]) ===
        "stopped"
    ) {
      ctx.out.info(
        `stopped following; the run goes on: swamp workflow status ${runId.slice(0, 8)}`,
      );
      return undefined;
    }
    return (await ctx.runs.getRun({ runId })).run;
  } finally {
    clearInterval(flusher);
    merge.flush(true);
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
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
