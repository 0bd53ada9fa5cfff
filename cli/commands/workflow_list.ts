import { ListRunsResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { parseRunStatus } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { summaryLine } from "../render_run.ts";
import { UsageError } from "../types.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const statuses = ((ctx.flags.status as string[] | undefined) ?? []).map((text) => {
    const status = parseRunStatus(text);
    if (status === undefined) {
      throw new UsageError(
        `unknown run status \`${text}\``,
        "statuses: pending, running, suspended, cancelling, succeeded, failed, cancelled, abandoned",
      );
    }
    return status;
  });
  const limit = ctx.flags.limit === undefined ? 20 : Number(ctx.flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new UsageError("--limit must be a whole number from 1 to 1000");
  }
  const result = await ctx.runs.listRuns({
    workflow: typeof ctx.flags.workflow === "string" ? ctx.flags.workflow : "",
    statuses,
    limit,
    cursor: typeof ctx.flags.cursor === "string" ? ctx.flags.cursor : "",
  });
  ctx.out.document(cliJson(ListRunsResponseSchema, result));
  if (result.runs.length === 0) ctx.out.info("no runs");
  else {ctx.out.line(
      ctx.out.dim(
        `${"RUN".padEnd(8)}  ${"WORKFLOW".padEnd(20)} ${"STATUS".padEnd(10)}  ${
          "ACTOR".padEnd(10)
        } CREATED               WAITING ON`,
      ),
    );}
  for (const summary of result.runs) ctx.out.line(summaryLine(ctx.out, summary));
  if (result.nextCursor) ctx.out.info(`more: swamp workflow list --cursor ${result.nextCursor}`);
  return 0;
}
