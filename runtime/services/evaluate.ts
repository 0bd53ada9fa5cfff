import { create, type JsonObject } from "@bufbuild/protobuf";
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import {
  type EvaluateWorkflowRequest,
  type EvaluateWorkflowResponse,
  EvaluateWorkflowResponseSchema,
  UnresolvedExpressionSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { declaredEnv } from "../engine/identity.ts";
import { evaluateAhead } from "../expressions/ahead.ts";
import { explainStepReferences } from "./evaluate_fan_outs.ts";
import { loadModelCatalog } from "../model/catalog.ts";
import { resolveInputs } from "../run/inputs.ts";
import { WorkflowCatalog } from "../workflow/catalog.ts";
import type { RunServiceEnv } from "./run_env.ts";

/** `workflow evaluate`: the workflow as a run with these inputs would start it. */
export async function evaluateWorkflow(
  env: RunServiceEnv,
  request: Partial<EvaluateWorkflowRequest>,
): Promise<EvaluateWorkflowResponse> {
  const root = await env.locator.root();
  const [catalog, models, executors] = await Promise.all([
    WorkflowCatalog.load(root),
    loadModelCatalog(root, { extensions: env.extensions }),
    env.executors(),
  ]);
  const entry = catalog.find(request.workflow ?? "");
  const problems = catalog.validate(entry, models, executors).filter((d) =>
    d.severity === Severity.ERROR
  );
  const parsed = entry.shape;
  if (problems.length > 0 || !parsed.success) {
    throw new SwampError(
      ErrorCode.INVALID_WORKFLOW,
      `workflow ${request.workflow} is not valid: ${problems.length} problem(s)`,
      {
        hint: `see them with \`swamp workflow validate ${request.workflow}\``,
        diagnostics: problems,
      },
    );
  }
  const inputs = resolveInputs(
    parsed.data.inputs,
    (request.inputs ?? {}) as Record<string, unknown>,
  );
  if (!env.expressions) {
    throw new SwampError(ErrorCode.UNIMPLEMENTED, "this service has no expression evaluator");
  }
  const scope = { inputs, env: declaredEnv(parsed.data.reads?.env) };
  const ahead = await evaluateAhead(entry.source.data, scope, env.expressions());
  const { value } = ahead;
  const unresolved = await explainStepReferences(
    value,
    ahead.unresolved,
    scope,
    env.expressions(),
  );
  return create(EvaluateWorkflowResponseSchema, {
    workflowName: parsed.data.name,
    file: entry.file,
    inputs: inputs as JsonObject,
    definition: value as JsonObject,
    unresolved: unresolved.map((u) => create(UnresolvedExpressionSchema, u)),
  });
}
