// A workflow's `locks` may be templates (`deploy-${{ inputs.env }}`). They are
// resolved once, when the run is submitted, with the same variables and the
// same CEL pass `workflow evaluate` uses (`inputs`, and the declared `env`),
// and the run's pinned definition keeps the resolved names: the engine, the
// status and the lock table all see the name the run really holds. Issue 17.
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { declaredEnv } from "../engine/identity.ts";
import { collectExpressions, renderTemplate } from "../expressions/template.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import type { Workflow } from "../workflow/schema.ts";

export async function resolveLockNames(
  workflow: Workflow,
  inputs: Record<string, unknown>,
  evaluator: ExpressionEvaluator | undefined,
): Promise<Workflow> {
  const locks = workflow.locks;
  if (!locks || collectExpressions(locks).length === 0) return workflow;
  const rendered = await renderTemplate(
    locks,
    { inputs, env: declaredEnv(workflow.reads?.env) },
    evaluator,
    "the workflow's locks",
  ) as unknown[];
  const names = rendered.map((name, i) => {
    if ((typeof name !== "string" && typeof name !== "number") || String(name).trim() === "") {
      throw new SwampError(
        ErrorCode.EXPRESSION_INVALID,
        `lock \`${locks[i]}\` resolves to ${JSON.stringify(name)}, not a lock name`,
        { hint: "a lock name must be non-empty text; the run was not created" },
      );
    }
    return String(name);
  });
  return { ...workflow, locks: names };
}
