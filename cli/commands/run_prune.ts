// `swamp run prune` (and `workflow prune`): PruneRuns a batch at a time, so a
// long prune (100,000 runs) can show how far it has got.
import { create } from "@bufbuild/protobuf";
import {
  type PruneRunsResponse,
  PruneRunsResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import { parseRunStatus } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { parseDuration } from "../duration.ts";
import { cliJson } from "../json_shape.ts";
import { summaryLine } from "../render_run.ts";
import { UsageError } from "../types.ts";

/** Runs examined per call: small enough that progress moves, large enough to cost little. */
const batch = 1000;

export async function run(ctx: CommandContext): Promise<number> {
  const olderThan = ctx.flags["older-than"];
  if (typeof olderThan !== "string") {
    throw new UsageError(
      "say how long ago a run must have ended to be pruned",
      "swamp run prune --older-than 30d  (add --dry-run to see what would go)",
    );
  }
  const ms = parseDuration(olderThan, "--older-than");
  const statuses = ((ctx.flags.status as string[] | undefined) ?? []).map((text) => {
    const status = parseRunStatus(text);
    if (status === undefined) {
      throw new UsageError(
        `unknown run status \`${text}\``,
        "prune takes the finished statuses: succeeded, failed, cancelled, abandoned",
      );
    }
    return status;
  });
  const dryRun = ctx.flags["dry-run"] === true;
  const request = {
    olderThanSeconds: BigInt(Math.max(1, Math.ceil(ms / 1000))),
    statuses,
    workflow: typeof ctx.flags.workflow === "string" ? ctx.flags.workflow : "",
    dryRun,
    limit: batch,
  };
  const showProgress = !ctx.out.quiet && Deno.stderr.isTerminal();
  const total = create(PruneRunsResponseSchema, {});
  let cursor = "";
  do {
    const part: PruneRunsResponse = await ctx.runs.pruneRuns({ ...request, cursor });
    total.runs.push(...part.runs);
    total.bytesFreed += part.bytesFreed;
    total.skipped += part.skipped;
    total.examined += part.examined;
    cursor = part.nextCursor;
    if (showProgress && cursor) {
      const verb = dryRun ? "would prune" : "pruned";
      ctx.out.stderr(`\r${verb} ${total.runs.length} of ${total.examined} runs examined…`);
    }
  } while (cursor);
  if (showProgress && total.examined > batch) ctx.out.stderr("\r\x1b[K");
  ctx.out.document(cliJson(PruneRunsResponseSchema, total));
  report(ctx, total, dryRun, olderThan);
  return 0;
}

function report(
  ctx: CommandContext,
  total: PruneRunsResponse,
  dryRun: boolean,
  olderThan: string,
): void {
  const runs: RunSummary[] = total.runs;
  if (dryRun) {
    if (ctx.out.quiet) { for (const summary of runs) ctx.out.line(summary.id); }
    else for (const summary of runs) ctx.out.line(summaryLine(ctx.out, summary));
    ctx.out.info(
      `would prune ${runs.length} run(s) that ended more than ${olderThan} ago ` +
        `(of ${total.examined} examined); nothing was deleted`,
    );
    return;
  }
  if (ctx.out.quiet) {
    for (const summary of runs) ctx.out.line(summary.id);
    return;
  }
  const skipped = total.skipped > 0
    ? `; ${total.skipped} left alone (live again, or already gone)`
    : "";
  ctx.out.line(
    `pruned ${runs.length} run(s), ${bytesText(total.bytesFreed)} freed` +
      ` (of ${total.examined} examined)${skipped}`,
  );
}

function bytesText(bytes: bigint): string {
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
