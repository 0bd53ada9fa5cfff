import type { DiagnosticSink, PathSegment } from "../diagnostics/mod.ts";
import type { ModelDefinition } from "../model/catalog.ts";

type Data = Record<string, unknown>;

/**
 * A definition's `inputs` (as in swamp: `{properties, required}`) are filled
 * from the step's `inputs`, over the workflow's inputs of the same name. A
 * required input that neither gives, and that has no default, is missing.
 */
export function checkDefinitionInputs(
  definition: ModelDefinition,
  task: Data,
  path: PathSegment[],
  sink: DiagnosticSink,
  workflow: Data,
): void {
  const schema = definition.inputs;
  if (!schema || !Array.isArray(schema.required)) return;
  if (task.inputs !== undefined && !isMap(task.inputs)) return; // one whole expression
  const given = (task.inputs ?? {}) as Data;
  const properties = isMap(schema.properties) ? schema.properties : {};
  const workflowInputs = isMap(workflow.inputs) && isMap(workflow.inputs.properties)
    ? workflow.inputs.properties
    : {};
  for (const name of schema.required) {
    if (typeof name !== "string" || name in given || name in workflowInputs) continue;
    const property = properties[name];
    if (isMap(property) && "default" in property) continue;
    sink.add({
      rule: "missing-input",
      message: `model \`${definition.name}\` needs the input \`${name}\` (${definition.file})`,
      hint: `set \`inputs.${name}\` on the step`,
      path,
    });
  }
}

/** The values of a definition's inputs for one step: defaults, then the workflow's, then the step's. */
export function definitionInputValues(
  definition: { inputs?: Data },
  workflowInputs: Data,
  stepInputs: Data,
): Data {
  const out: Data = {};
  const properties = isMap(definition.inputs?.properties) ? definition.inputs.properties : {};
  for (const [name, property] of Object.entries(properties)) {
    if (isMap(property) && "default" in property) out[name] = property.default;
  }
  return { ...out, ...workflowInputs, ...stepInputs };
}

function isMap(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
