import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import {
  GetRunResponseSchema,
  SubmitRunResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { type Run, RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { isSettledRun, runStatusText } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { hostSlotSettings } from "../wiring.ts";
import { exitCodeFor } from "../exit_codes.ts";
import { followRun, leftRunHints, outcomeExit } from "../follow.ts";
import { paintStatus } from "../render_run.ts";
import { readInputs } from "../run_inputs.ts";
import { cliJson } from "../json_shape.ts";
import {
  cancelInterruptedStart,
  guardInterrupts,
  leftWhileSubmitting,
} from "../submit_interrupts.ts";

export async function run(ctx: CommandContext): Promise<number> {
  hostSlotSettings(); // a bad ceiling is a usage error now, not a failed run later
  const inputs = await readInputs(ctx.flags);
  const guarded = await guardInterrupts(
    ctx,
    () => {
      if (ctx.out.verbose) ctx.out.info(`submitting a run of ${ctx.args[0]}…`);
      return ctx.runs.submitRun({
        workflow: ctx.args[0],
        inputs: inputs as JsonObject,
        detach: ctx.flags.detach === true,
      });
    },
    "interrupted while starting: the run is cancelled as soon as it exists. Ctrl-C again stops waiting.",
  );
  if ("gaveUp" in guarded) return leftWhileSubmitting(ctx);
  const submitted = guarded.value;
  const runId = submitted.run!.id;
  if (guarded.interrupted) {
    ctx.out.line(runId);
    return await cancelInterruptedStart(ctx, runId);
  }
  if (ctx.flags.detach === true) {
    ctx.out.document(cliJson(SubmitRunResponseSchema, submitted));
    ctx.out.line(runId);
    ctx.out.info(`started; follow it with: swamp workflow logs ${runId.slice(0, 8)} --follow`);
    return 0;
  }
  ctx.out.line(runId);
  return await finishFollowing(ctx, runId);
}

/**
 * Follows a run until it is settled, then reports it and returns the exit
 * status for it; when Ctrl-C left it going, reports it as it stands.
 */
export async function finishFollowing(
  ctx: CommandContext,
  runId: string,
  since?: { eventSeq: bigint; time: Date },
  document: (final: Run) => JsonValue = (final) =>
    cliJson(GetRunResponseSchema, create(GetRunResponseSchema, { run: final })),
): Promise<number> {
  const followed = await followRun(ctx, runId, since);
  const final = "final" in followed ? followed.final : (await ctx.runs.getRun({ runId })).run!;
  // Under --json the events came one a line (NDJSON); the run's state is the last line.
  if (ctx.out.json) ctx.out.raw(`${JSON.stringify(document(final))}\n`);
  if (!isSettledRun(final.status)) {
    // Left going: 13 says the run has not ended, as `status --exit-status` would.
    for (const line of leftRunHints(runId, "left" in followed ? followed.left : "detached")) {
      ctx.out.stderr(`${line}\n`);
    }
    return exitCodeFor("run_active");
  }
  const status = runStatusText(final.status);
  ctx.out.info(
    `run ${runId} ${paintStatus(ctx.out, status)}${final.reason ? `: ${final.reason}` : ""}`,
  );
  if (final.status === RunStatus.SUSPENDED) {
    const gates = final.steps.filter((s) => s.status === StepStatus.WAITING_APPROVAL);
    ctx.out.info(
      `waiting for approval of ${
        gates.map((s) => s.id).join(", ")
      }; decide with: swamp workflow approve ${runId.slice(0, 8)}${
        gates.length > 1 ? ` --step ${gates[0].id}` : ""
      }`,
    );
  }
  const failure = outcomeExit(final);
  return failure ? exitCodeFor(failure) : 0;
}
