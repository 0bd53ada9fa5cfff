import { type Diagnostic, Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { ValidateWorkflowsResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { UsageError } from "../types.ts";
import type { CommandContext } from "../context.ts";
import { exitCodeFor } from "../exit_codes.ts";
import type { Output } from "../output.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const all = ctx.flags.all === true;
  if (all && ctx.args.length > 0) throw new UsageError("give a workflow name or --all, not both");
  if (!all && ctx.args.length === 0) {
    throw new UsageError(
      "name a workflow to validate, or pass --all",
      "swamp workflow validate <name>  |  swamp workflow validate --all",
    );
  }
  const result = await ctx.runs.validateWorkflows({ workflows: ctx.args, all });
  ctx.out.document(cliJson(ValidateWorkflowsResponseSchema, result));
  const { out } = ctx;
  const isError = (d: Diagnostic) => d.severity === Severity.ERROR;
  const modelErrors = result.modelDiagnostics.filter(isError).length;
  for (const diagnostic of result.modelDiagnostics) printDiagnostic(out, diagnostic);
  let invalid = 0;
  for (const entry of result.results) {
    for (const diagnostic of entry.diagnostics) printDiagnostic(out, diagnostic);
    if (!entry.valid) invalid++;
    const label = entry.workflowName || entry.file;
    const errors = entry.diagnostics.filter(isError).length;
    const warnings = entry.diagnostics.length - errors;
    const tail = warnings > 0 ? out.dim(` (${warnings} warning${warnings === 1 ? "" : "s"})`) : "";
    out.line(
      entry.valid
        ? `${out.green("ok")}    ${label}${tail}`
        : `${out.red("error")} ${label}: ${errors} problem${errors === 1 ? "" : "s"}${tail}`,
    );
  }
  if (result.results.length === 0) out.info("no workflows found in workflows/");
  if (modelErrors > 0) {
    out.line(
      `${out.red("error")} model definitions: ${modelErrors} problem${
        modelErrors === 1 ? "" : "s"
      }`,
    );
  }
  const failed = invalid > 0 || modelErrors > 0;
  if (!out.quiet && result.results.length > 1) {
    out.line(`${result.results.length - invalid} of ${result.results.length} workflows valid`);
  }
  return failed ? exitCodeFor("invalid_workflow") : 0;
}

function printDiagnostic(out: Output, d: Diagnostic): void {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const label = d.severity === Severity.ERROR ? out.red("error") : out.yellow("warning");
  out.line(`${where}: ${label}[${d.rule}]: ${d.message}`);
  if (d.hint) out.line(`  ${out.dim("hint:")} ${d.hint}`);
}
