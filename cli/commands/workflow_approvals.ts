import { ListApprovalsResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { gateTerms } from "../render_gate.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const result = await ctx.runs.listApprovals({
    workflow: typeof ctx.flags.workflow === "string" ? ctx.flags.workflow : "",
  });
  ctx.out.document(cliJson(ListApprovalsResponseSchema, result));
  if (result.approvals.length === 0) {
    ctx.out.info("no gates are waiting for a decision");
    return 0;
  }
  if (ctx.out.quiet) {
    // What `workflow approve RUN --step STEP` takes, one gate a line.
    for (const pending of result.approvals) ctx.out.line(`${pending.runId} ${pending.stepId}`);
    return 0;
  }
  for (const pending of result.approvals) {
    const gate = pending.gate!;
    ctx.out.line(
      `${ctx.out.bold(pending.runId.slice(0, 8))}  ${pending.workflowName}  ${pending.stepId}`,
    );
    ctx.out.line(`  ${gate.prompt}`);
    ctx.out.line(ctx.out.dim(`  may decide: ${gateTerms(gate)}`));
  }
  const first = result.approvals[0];
  ctx.out.info(
    `decide with: swamp workflow approve ${first.runId.slice(0, 8)} --step ${first.stepId}`,
  );
  return 0;
}
