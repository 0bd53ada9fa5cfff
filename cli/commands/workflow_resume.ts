import { create, type JsonObject } from "@bufbuild/protobuf";
import { ResumeRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { hostSlotSettings } from "../wiring.ts";
import { finishFollowing } from "./workflow_run.ts";
import { UsageError } from "../types.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  hostSlotSettings(); // a bad ceiling is a usage error now, not a failed run later
  const inputs: Record<string, unknown> = {};
  for (const pair of (ctx.flags.input as string[] | undefined) ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--input takes NAME=VALUE, not \`${pair}\``);
    inputs[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const asked = new Date();
  const result = await ctx.runs.resumeRun({
    runId: ctx.args[0],
    inputs: inputs as JsonObject,
    fromStep: typeof ctx.flags.from === "string" ? ctx.flags.from : "",
    detach: ctx.flags.detach === true,
  });
  const run = result.run!;
  if (ctx.flags.detach === true) {
    ctx.out.document(cliJson(ResumeRunResponseSchema, result));
    ctx.out.line(run.id);
    ctx.out.info(
      `resumed (attempt ${run.attempt}); follow it with: swamp workflow logs ${
        run.id.slice(0, 8)
      } --follow`,
    );
    return 0;
  }
  ctx.out.line(run.id);
  ctx.out.info(`resumed, attempt ${run.attempt}`);
  return await finishFollowing(
    ctx,
    run.id,
    { eventSeq: run.revision, time: asked },
    (final) => cliJson(ResumeRunResponseSchema, create(ResumeRunResponseSchema, { run: final })),
  );
}
