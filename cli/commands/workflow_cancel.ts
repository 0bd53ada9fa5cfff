import { CancelRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { isSettledRun, runStatusText } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { printRun } from "../render_run.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const result = await ctx.runs.cancelRun({
    runId: ctx.args[0],
    reason: typeof ctx.flags.reason === "string" ? ctx.flags.reason : "",
    noWait: ctx.flags["no-wait"] === true,
  });
  ctx.out.document(cliJson(CancelRunResponseSchema, result));
  const run = result.run!;
  const status = runStatusText(run.status);
  if (!result.changed) {
    ctx.out.line(`run ${run.id} already ended ${status}; nothing changed`);
    return 0;
  }
  if (!isSettledRun(run.status)) {
    ctx.out.line(`cancel of run ${run.id} recorded; it is ${status}`);
    ctx.out.info(`follow it: swamp workflow status ${run.id.slice(0, 8)}`);
    return 0;
  }
  printRun(ctx.out, run, false);
  return 0;
}
