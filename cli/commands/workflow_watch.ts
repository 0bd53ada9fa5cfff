import type { CommandContext } from "../context.ts";
import { finishFollowing } from "./workflow_run.ts";

/**
 * `workflow watch RUN`: follows a run that is already going (or has ended)
 * the way `workflow run` follows the run it starts: a live summary on a
 * terminal, a line per change otherwise, NDJSON under --json; Ctrl-C as
 * there. Exits with the run's outcome, or 13 when left going.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const runId = (await ctx.runs.getRun({ runId: ctx.args[0] })).run!.id;
  return await finishFollowing(ctx, runId);
}
