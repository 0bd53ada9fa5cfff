import { GetRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, isSettledRun, runStatusText, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { parseDuration } from "../duration.ts";
import { stateExit } from "../follow.ts";
import { paintStatus } from "../render_run.ts";
import { cliJson } from "../json_shape.ts";

/** Polls this often: each look is one cheap read of the run, through the same service as any call. */
const pollMs = 250;

/**
 * `workflow wait RUN [--timeout D]`: waits, printing nothing on the way, until
 * the run has ended or stopped at a gate, and exits with the status of how it
 * stands (0, run_failed 1, run_cancelled 10, run_abandoned 11,
 * run_suspended 12); past --timeout, deadline_exceeded (6).
 */
export async function run(ctx: CommandContext): Promise<number> {
  const timeout = typeof ctx.flags.timeout === "string"
    ? parseDuration(ctx.flags.timeout, "--timeout")
    : undefined;
  const started = Date.now();
  let response = await ctx.runs.getRun({ runId: ctx.args[0] });
  while (!isSettledRun(response.run!.status)) {
    if (timeout !== undefined && Date.now() - started >= timeout) {
      const run = response.run!;
      throw new SwampError(
        ErrorCode.DEADLINE_EXCEEDED,
        `run ${run.id} is still ${runStatusText(run.status)} after ${ctx.flags.timeout}`,
        { hint: `wait longer, or see it with: swamp workflow status ${run.id.slice(0, 8)}` },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    response = await ctx.runs.getRun({ runId: response.run!.id });
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
