import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import {
  ValidateWorkflowsResponseSchema,
  type WorkflowValidation,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { CommandContext } from "../context.ts";
import type { Output } from "../output.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const result = await ctx.runs.validateWorkflows({ all: true });
  out.document(cliJson(ValidateWorkflowsResponseSchema, result));
  if (result.results.length === 0) {
    out.info("no workflows in workflows/; create one with `swamp workflow create <name>`");
    return 0;
  }
  if (out.quiet) {
    for (const entry of result.results) out.line(entry.workflowName || entry.file);
    return 0;
  }
  out.table(
    ["NAME", "ID", "FILE", "JOBS", "STEPS", "VALID"],
    result.results.map((entry) => [
      entry.workflowName || "?",
      entry.workflowId || "?",
      entry.file,
      String(entry.jobCount),
      String(entry.stepCount),
      // Last, so its colour cannot shift the columns.
      validity(out, entry),
    ]),
  );
  const modelErrors = result.modelDiagnostics.filter((d) => d.severity === Severity.ERROR).length;
  if (modelErrors > 0) {
    out.info(
      `model definitions: ${plural(modelErrors, "error")}; see swamp workflow validate --all`,
    );
  }
  const invalid = result.results.find((entry) => !entry.valid);
  if (invalid) {
    out.info(
      `see the problems with: swamp workflow validate ${invalid.workflowName || invalid.file}`,
    );
  }
  return 0;
}

function validity(out: Output, entry: WorkflowValidation): string {
  const errors = entry.diagnostics.filter((d) => d.severity === Severity.ERROR).length;
  const warnings = entry.diagnostics.length - errors;
  const tail = warnings > 0 ? ` (${plural(warnings, "warning")})` : "";
  return entry.valid
    ? `${out.green("yes")}${tail}`
    : `${out.red("no")}: ${plural(errors, "error")}${tail}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
