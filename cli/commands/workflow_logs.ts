import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { CommandContext } from "../context.ts";
import { runStatusText } from "../../runtime/mod.ts";
import { printLogLine, stateExit } from "../follow.ts";
import { paintStatus } from "../render_run.ts";
import { UsageError } from "../types.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const from = typeof ctx.flags.from === "string" ? ctx.flags.from : "0";
  if (!/^\d+$/.test(from)) throw new UsageError("--from takes a sequence number, e.g. --from 120");
  const lines = ctx.runs.readLogs({
    runId: ctx.args[0],
    follow: ctx.flags.follow === true,
    step: typeof ctx.flags.step === "string" ? ctx.flags.step : "",
    afterSeq: BigInt(from),
  });
  for await (const { line } of lines) {
    if (!line) continue;
    if (ctx.out.json) {
      ctx.out.raw(`${JSON.stringify(cliJson(LogLineSchema, line))}\n`);
    } else printLogLine(ctx.out, line);
  }
  if (ctx.flags.follow !== true) return 0;
  // Followed to its end: the last line says how it ended, and so does the exit status.
  const run = (await ctx.runs.getRun({ runId: ctx.args[0] })).run!;
  ctx.out.info(
    `run ${run.id} ${paintStatus(ctx.out, runStatusText(run.status))}${
      run.reason ? `: ${run.reason}` : ""
    }`,
  );
  return stateExit(run);
}
