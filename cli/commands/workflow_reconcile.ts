import { ReconcileRunsResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { runStatusText } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const dryRun = ctx.flags["dry-run"] === true;
  const result = await ctx.runs.reconcileRuns({ dryRun });
  ctx.out.document(cliJson(ReconcileRunsResponseSchema, result));
  for (const change of result.changes) {
    ctx.out.line(
      `${change.runId}  ${runStatusText(change.from)} → ${
        runStatusText(change.to)
      }  (${change.reason})`,
    );
    for (const action of change.actions) ctx.out.line(`  ${action}`);
  }
  const verb = dryRun ? "would change" : "changed";
  ctx.out.line(`examined ${result.examined} unfinished run(s); ${verb} ${result.changes.length}`);
  return 0;
}
