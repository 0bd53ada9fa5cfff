import { ListRunsResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { didYouMean, parseRunStatus } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { summaryLine, verboseHeader, verboseRow } from "../render_run.ts";
import { UsageError } from "../types.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const typed = (ctx.flags.status as string[] | undefined) ?? [];
  const statuses = typed.map((text) => {
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
  const workflow = typeof ctx.flags.workflow === "string" ? ctx.flags.workflow : "";
  const result = await ctx.runs.listRuns({
    workflow,
    statuses,
    limit,
    cursor: typeof ctx.flags.cursor === "string" ? ctx.flags.cursor : "",
  });
  ctx.out.document(cliJson(ListRunsResponseSchema, result));
  if (result.runs.length === 0) {
    const unknown = workflow && !ctx.out.quiet && !ctx.out.json
      ? await unknownWorkflow(ctx, workflow)
      : undefined;
    ctx.out.info(unknown ? `no runs: ${unknown.problem}\n  hint: ${unknown.hint}` : "no runs");
  } else if (ctx.out.quiet) {
    // Only the ids, one a line, for scripts (as `docker ps -q`).
    for (const summary of result.runs) ctx.out.line(summary.id);
  } else if (ctx.out.verbose) {
    ctx.out.table(verboseHeader, result.runs.map(verboseRow));
  } else {
    ctx.out.line(
      ctx.out.dim(
        `${"RUN".padEnd(8)}  ${"WORKFLOW".padEnd(20)} ${"STATUS".padEnd(10)}  ${
          "ACTOR".padEnd(10)
        } CREATED               WAITING ON`,
      ),
    );
    for (const summary of result.runs) ctx.out.line(summaryLine(ctx.out, summary));
  }
  if (result.nextCursor) {
    // The cursor only says where the page ended: the next page needs the same filters.
    const filters = [
      ...(workflow ? ["--workflow", workflow] : []),
      ...typed.flatMap((status) => ["--status", status]),
      ...(ctx.flags.limit === undefined ? [] : ["--limit", String(limit)]),
    ];
    ctx.out.info(
      `more: swamp workflow list ${[...filters, "--cursor", result.nextCursor].join(" ")}`,
    );
  }
  return 0;
}

/** Why a filter on this workflow finds nothing, when no workflow of the repository has that name. */
async function unknownWorkflow(
  ctx: CommandContext,
  name: string,
): Promise<{ problem: string; hint: string } | undefined> {
  const { workflows } = await ctx.repo.listWorkflows({});
  if (workflows.some((w) => w.name === name)) return undefined;
  const files = "`swamp workflow files` lists the workflows";
  const byId = workflows.find((w) => w.id === name);
  if (byId) {
    return {
      problem: `\`${name}\` is the id of workflow \`${byId.name}\`; --workflow takes a name`,
      hint: `swamp workflow list --workflow ${byId.name}`,
    };
  }
  const suggestion = didYouMean(name, workflows.map((w) => w.name));
  return {
    problem: `no workflow in this repository is named \`${name}\``,
    hint: suggestion ? `${suggestion} ${files}` : files,
  };
}
