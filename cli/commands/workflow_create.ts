import { CreateWorkflowResponseSchema } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const description = typeof ctx.flags.description === "string" ? ctx.flags.description : "";
  const result = await ctx.repo.createWorkflow({ name: ctx.args[0], description });
  ctx.out.document(cliJson(CreateWorkflowResponseSchema, result));
  const wf = result.workflow!;
  ctx.out.line(`created workflow ${wf.name} (${wf.id}) in ${wf.file}`);
  ctx.out.info(`next: edit it, then run \`swamp workflow validate ${wf.name}\``);
  return 0;
}
