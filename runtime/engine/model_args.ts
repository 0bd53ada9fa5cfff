// A model_method step's arguments at run time: the definition's global and
// method arguments, then the step's inputs. The definition's `${{ inputs.x }}`
// read its declared inputs (defaults), the workflow's inputs and the step's
// inputs, the step's winning (swamp's model-definition inputs). A step input
// the definition declares as an input is an input value, not an argument.
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import { renderTemplate } from "../expressions/template.ts";
import { holdsExpression } from "../model/extension_values.ts";
import { definitionInputValues } from "../workflow/definition_inputs.ts";
import type { ModelTarget } from "./shell_task.ts";

type Data = Record<string, unknown>;

/** The step's arguments and placement, rendered (one sandbox crossing when the definition has no expressions). */
export async function renderModelArguments(
  target: ModelTarget,
  stepInputs: Data,
  placement: unknown,
  variables: Data,
  evaluator: ExpressionEvaluator | undefined,
  where: string,
): Promise<{ args: Data; placement: unknown }> {
  const own = (inputs: Data) =>
    Object.fromEntries(Object.entries(inputs).filter(([k]) => !target.inputNames.includes(k)));
  if (!holdsExpression(target.arguments)) {
    const rendered = await renderTemplate(
      { args: { ...target.arguments, ...own(stepInputs) }, placement },
      variables,
      evaluator,
      where,
    ) as { args: Data; placement: unknown };
    return rendered;
  }
  const first = await renderTemplate(
    { inputs: stepInputs, placement },
    variables,
    evaluator,
    where,
  ) as { inputs: Data; placement: unknown };
  const workflowInputs = (variables.inputs ?? {}) as Data;
  const inputs = definitionInputValues(
    { inputs: target.inputs },
    workflowInputs,
    first.inputs,
  );
  const definitionArgs = await renderTemplate(
    target.arguments,
    { ...variables, inputs },
    evaluator,
    `${where} (model ${target.definitionName})`,
  ) as Data;
  return { args: { ...definitionArgs, ...own(first.inputs) }, placement: first.placement };
}
