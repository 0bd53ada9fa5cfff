import { type JsonObject } from "@bufbuild/protobuf";
import { EvaluateWorkflowResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { readInputs } from "../run_inputs.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const result = await ctx.runs.evaluateWorkflow({
    workflow: ctx.args[0],
    inputs: await readInputs(ctx.flags) as JsonObject,
  });
  ctx.out.document(cliJson(EvaluateWorkflowResponseSchema, result));
  const { dump } = await import("js-yaml");
  ctx.out.line(
    `# ${result.file}, evaluated with the inputs ${JSON.stringify(result.inputs ?? {})}`,
  );
  ctx.out.line(dump(result.definition ?? {}, { lineWidth: 100, noRefs: true }).trimEnd());
  if (result.unresolved.length > 0) {
    ctx.out.info(`${result.unresolved.length} expression(s) are known only during a run:`);
    for (const u of result.unresolved) {
      ctx.out.info(`  ${u.path}: \`${u.expression}\`: ${u.reason}`);
    }
  }
  return 0;
}
