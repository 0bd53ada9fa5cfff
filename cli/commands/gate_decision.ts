import {
  ApproveStepResponseSchema,
  RejectStepResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { type Run, RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { runStatusText } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { hostSlotSettings } from "../wiring.ts";
import { paintStatus } from "../render_run.ts";
import { cliJson } from "../json_shape.ts";

/** `approve` and `reject`: one small write each, the same report. */
export async function decideGate(ctx: CommandContext, approved: boolean): Promise<number> {
  // An approve can resume the run (a timed-out gate that approves itself): a bad ceiling is
  // refused before anything is written.
  if (approved) hostSlotSettings();
  const request = {
    runId: ctx.args[0],
    step: typeof ctx.flags.step === "string" ? ctx.flags.step : "",
    reason: typeof ctx.flags.reason === "string" ? ctx.flags.reason : "",
  };
  let result: { run?: Run; stepId: string };
  if (approved) {
    const approval = await ctx.runs.approveStep(request);
    ctx.out.document(cliJson(ApproveStepResponseSchema, approval));
    result = approval;
  } else {
    const rejection = await ctx.runs.rejectStep(request);
    ctx.out.document(cliJson(RejectStepResponseSchema, rejection));
    result = rejection;
  }
  const run = result.run!;
  const short = run.id.slice(0, 8);
  ctx.out.line(`${approved ? "approved" : "rejected"} ${result.stepId} of run ${run.id}`);
  const stillWaiting = run.steps.filter((s) => s.status === StepStatus.WAITING_APPROVAL);
  ctx.out.info(
    `run ${paintStatus(ctx.out, runStatusText(run.status))}${run.reason ? `: ${run.reason}` : ""}`,
  );
  if (stillWaiting.length > 0) {
    ctx.out.info(`still waiting: ${stillWaiting.map((s) => s.id).join(", ")}`);
  } else if (approved && run.status === RunStatus.SUSPENDED) {
    ctx.out.info(`continue it with: swamp workflow resume ${short}`);
  }
  return 0;
}
