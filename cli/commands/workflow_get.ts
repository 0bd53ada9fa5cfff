import { GetWorkflowResponseSchema } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const result = await ctx.repo.getWorkflow({ workflow: ctx.args[0] });
  ctx.out.document(cliJson(GetWorkflowResponseSchema, result));
  const wf = result.workflow!;
  const { out } = ctx;
  out.line(`${out.bold(wf.name)}  ${out.dim(wf.id)}`);
  if (wf.description) out.line(wf.description);
  out.line(`file: ${wf.file}`);
  const jobs = (result.definition?.jobs ?? []) as unknown[];
  for (const job of jobs) {
    const j = job as { name?: unknown; steps?: unknown; dependsOn?: unknown };
    const after = names(j.dependsOn, "job");
    out.line(`job ${String(j.name)}${after ? out.dim(` (after ${after})`) : ""}`);
    for (const step of Array.isArray(j.steps) ? j.steps : []) {
      const s = step as { name?: unknown; task?: { type?: unknown }; dependsOn?: unknown };
      const deps = names(s.dependsOn, "step");
      out.line(
        `  step ${String(s.name)}  ${out.dim(String(s.task?.type ?? "?"))}${
          deps ? out.dim(` (after ${deps})`) : ""
        }`,
      );
    }
  }
  return 0;
}

function names(deps: unknown, key: string): string {
  if (!Array.isArray(deps)) return "";
  return deps.map((d) => String((d as Record<string, unknown>)?.[key])).join(", ");
}
