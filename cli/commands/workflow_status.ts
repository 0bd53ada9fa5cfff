import { GetRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { runStatusText } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { stateExit } from "../follow.ts";
import { printRun } from "../render_run.ts";
import { cliJson } from "../json_shape.ts";
import { fanOutsJson, printFanOuts } from "../render_fan_outs.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const result = await ctx.runs.getRun({ runId: ctx.args[0] });
  const fanOuts = fanOutsJson(result.run!);
  ctx.out.document({
    ...cliJson(GetRunResponseSchema, result),
    ...(fanOuts.length > 0 ? { fanOuts } : {}),
  });
  // -q: the state alone, for scripts that branch on it.
  if (ctx.out.quiet) ctx.out.line(runStatusText(result.run!.status));
  else {
    printRun(ctx.out, result.run!, result.definitionChanged);
    printFanOuts(ctx.out, result.run!);
  }
  // Scripts may ask for the run's state as the exit status; by default reading it is a success.
  return ctx.flags["exit-status"] === true ? stateExit(result.run!) : 0;
}
