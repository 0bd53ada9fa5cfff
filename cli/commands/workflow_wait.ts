import { GetRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, isSettledRun, runStatusText, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { parseDuration } from "../duration.ts";
import { stateExit } from "../follow.ts";
import { paintStatus } from "../render_run.ts";
import { cliJson } from "../json_shape.ts";

/**
 * `workflow wait RUN [--timeout D]`: waits, printing nothing on the way, until
 * the run has ended or stopped at a gate, and exits with the status of how it
 * stands (0, run_failed 1, run_cancelled 10, run_abandoned 11,
 * run_suspended 12); past --timeout, deadline_exceeded (6). It follows the
 * run's events as `watch` does, so it hears of the end as soon as it is
 * stored (by a change notification where the store has them), not on a poll.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const timeout = typeof ctx.flags.timeout === "string"
    ? parseDuration(ctx.flags.timeout, "--timeout")
    : undefined;
  let response = await ctx.runs.getRun({ runId: ctx.args[0] });
  const first = response.run!;
  if (!isSettledRun(first.status)) {
    const ended = (async () => {
      const events = ctx.runs.watchRunEvents({
        runId: first.id,
        follow: true,
        afterSeq: first.revision,
      });
      for await (const _ of events) { /* the stream ends once the run has settled */ }
      return true;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      if (timeout !== undefined) timer = setTimeout(() => resolve(false), timeout);
    });
    const settled = await Promise.race([ended, expired]).finally(() => clearTimeout(timer));
    response = await ctx.runs.getRun({ runId: first.id });
    const now = response.run!;
    if (!settled && !isSettledRun(now.status)) {
      throw new SwampError(
        ErrorCode.DEADLINE_EXCEEDED,
        `run ${now.id} is still ${runStatusText(now.status)} after ${ctx.flags.timeout}`,
        { hint: `wait longer, or see it with: swamp workflow status ${now.id.slice(0, 8)}` },
      );
    }
  }
  const run = response.run!;
  ctx.out.document(cliJson(GetRunResponseSchema, response));
  ctx.out.line(
    `run ${run.id} ${paintStatus(ctx.out, runStatusText(run.status))}${
      run.reason ? `: ${run.reason}` : ""
    }`,
  );
  return stateExit(run);
}
