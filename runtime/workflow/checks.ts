import type { DiagnosticSink, PathSegment } from "../diagnostics/mod.ts";
import { findDefinitions, type ModelCatalog, type ModelDefinition } from "../model/catalog.ts";
import { modelInputs, report } from "../model/extension_types.ts";
import { checkDefinitionInputs } from "./definition_inputs.ts";
import { didYouMean } from "../text/suggest.ts";
import { findCycles } from "./graph.ts";
import { checkRetryAndTimeout } from "./retry_check.ts";
import { inertKeys } from "./schema.ts";

type Data = Record<string, unknown>;

/** What the checks need to know about the other workflows of the repository. */
export interface WorkflowDirectory {
  /** Resolves a workflow name or id to its name, if such a workflow exists. */
  resolve(nameOrId: string): string | undefined;
  names(): Iterable<string>;
}

/**
 * Checks that need more than the schema: unique names, references, cycles,
 * model types and definitions. They read the raw data defensively, so they
 * run (and report) even when the schema found problems too.
 */
export function checkWorkflow(
  data: Data,
  sink: DiagnosticSink,
  models: ModelCatalog,
  workflows: WorkflowDirectory,
): void {
  reportInertKeys(data, [], sink);
  const jobs = list(data.jobs);
  const jobNames = uniqueNames(jobs, ["jobs"], "job", sink);
  const jobEdges = new Map<string, string[]>();
  jobs.forEach((job, j) => {
    if (!isMap(job)) return;
    reportInertKeys(job, ["jobs", j], sink);
    const deps = dependencies(job, "job", jobNames, ["jobs", j], sink);
    if (typeof job.name === "string") jobEdges.set(job.name, deps);
    const steps = list(job.steps);
    const stepNames = uniqueNames(steps, ["jobs", j, "steps"], "step", sink);
    const stepEdges = new Map<string, string[]>();
    steps.forEach((step, s) => {
      if (!isMap(step)) return;
      const path: PathSegment[] = ["jobs", j, "steps", s];
      reportInertKeys(step, path, sink);
      checkRetryAndTimeout(step, path, sink);
      const stepDeps = dependencies(step, "step", stepNames, path, sink);
      if (typeof step.name === "string") stepEdges.set(step.name, stepDeps);
      if (isMap(step.task)) checkTask(step.task, [...path, "task"], sink, models, workflows, data);
      if (isMap(step.forEach) && typeof step.forEach.item === "string") {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(step.forEach.item)) {
          sink.add({
            rule: "invalid-value",
            message: `forEach item name \`${step.forEach.item}\` is not a valid identifier`,
            hint: "use letters, digits and underscores, starting with a letter",
            path: [...path, "forEach", "item"],
          });
        }
      }
    });
    reportCycles(stepEdges, "step", (name) => indexOf(steps, name), ["jobs", j, "steps"], sink);
  });
  reportCycles(jobEdges, "job", (name) => indexOf(jobs, name), ["jobs"], sink);
}

function checkTask(
  task: Data,
  path: PathSegment[],
  sink: DiagnosticSink,
  models: ModelCatalog,
  workflows: WorkflowDirectory,
  workflow: Data,
): void {
  if (task.type === "model_method") {
    checkModelMethod(task, path, sink, models, workflow);
  } else if (task.type === "manual_approval") {
    checkGate(task, path, sink);
  } else if (task.type === "workflow" && typeof task.workflowIdOrName === "string") {
    const target = workflows.resolve(task.workflowIdOrName);
    if (target === undefined) {
      sink.add({
        rule: "unknown-workflow",
        message: `no workflow named \`${task.workflowIdOrName}\``,
        hint: didYouMean(task.workflowIdOrName, workflows.names()) ||
          "list them with `ls workflows/`; create one with `swamp workflow create`",
        path: [...path, "workflowIdOrName"],
      });
    } else if (target === workflow.name) {
      sink.add({
        rule: "dependency-cycle",
        message: "the workflow calls itself",
        path: [...path, "workflowIdOrName"],
      });
    }
  }
}

function checkModelMethod(
  task: Data,
  path: PathSegment[],
  sink: DiagnosticSink,
  models: ModelCatalog,
  workflow: Data,
) {
  const byRef = typeof task.modelIdOrName === "string";
  const byType = typeof task.modelType === "string";
  if (byRef === byType) {
    sink.add({
      rule: "invalid-task",
      message: byRef
        ? "give either `modelIdOrName` or `modelType` with `modelName`, not both"
        : "a model_method task needs `modelIdOrName`, or `modelType` with `modelName`",
      path,
    });
    return;
  }
  if (byType && typeof task.modelName !== "string") {
    sink.add({ rule: "missing-key", message: "`modelType` needs a `modelName`", path });
  }
  if (!byType && task.globalArgs !== undefined) {
    sink.add({
      rule: "invalid-task",
      message: "`globalArgs` is only allowed with `modelType`",
      hint: "put global arguments in the model definition instead",
      path: [...path, "globalArgs"],
    });
  }
  let type: string | undefined;
  let definitionArgs: Data = {};
  let definition: ModelDefinition | undefined;
  if (byRef) {
    const ref = task.modelIdOrName as string;
    const found = findDefinitions(models, ref);
    if (found.length === 0) {
      // As in swamp: an earlier step may create the model, so this is not an error here.
      sink.add({
        severity: "warning",
        rule: "unknown-model",
        message: `no model definition named \`${ref}\` exists yet`,
        hint: didYouMean(ref, models.definitions.map((d) => d.name)) ||
          "model definitions live in models/<type>/<name>.yaml; a run fails this step if none exists by then",
        path: [...path, "modelIdOrName"],
      });
      return;
    }
    if (found.length > 1) {
      sink.add({
        rule: "ambiguous-model",
        message: `\`${ref}\` names ${found.length} model definitions: ${
          found.map((d) => d.file).join(", ")
        }`,
        hint: "refer to it by id instead",
        path: [...path, "modelIdOrName"],
      });
      return;
    }
    type = found[0].type;
    const method = typeof task.methodName === "string"
      ? found[0].methods?.[task.methodName]
      : undefined;
    definitionArgs = { ...found[0].globalArguments, ...method?.arguments };
    definition = found[0];
    checkDefinitionInputs(found[0], task, path, sink, workflow);
  } else {
    type = task.modelType as string;
  }
  const info = models.types.get(type);
  const brokenModule = models.unloaded?.get(type);
  if (!info && brokenModule) {
    sink.add({
      rule: "unknown-model-type",
      message: `model type \`${type}\` is declared by ${brokenModule}, which did not load`,
      hint: `fix the module: see the diagnostic at ${brokenModule}`,
      path: [...path, byRef ? "modelIdOrName" : "modelType"],
    });
    return;
  }
  if (!info) {
    sink.add({
      rule: "unknown-model-type",
      message: `unknown model type \`${type}\``,
      hint: didYouMean(type, models.types.keys()) ||
        `known types: ${[...models.types.keys()].join(", ")}`,
      path: [...path, byRef ? "modelIdOrName" : "modelType"],
    });
    return;
  }
  if (byType && info.globalArguments && (task.globalArgs === undefined || isMap(task.globalArgs))) {
    report(sink, info.globalArguments, task.globalArgs ?? {}, [...path, "globalArgs"], false);
  }
  if (!info.methods || typeof task.methodName !== "string") return;
  const method = info.methods[task.methodName];
  if (!method) {
    const names = Object.keys(info.methods);
    sink.add({
      rule: "unknown-method",
      message: `model type \`${type}\` has no method \`${task.methodName}\``,
      hint: didYouMean(task.methodName, names) || `its methods: ${names.join(", ")}`,
      path: [...path, "methodName"],
    });
    return;
  }
  if (!isMap(task.inputs) && task.inputs !== undefined) return; // one whole expression
  const inputNames = modelInputs(definition, info).names;
  const given = (task.inputs ?? {}) as Data;
  const inputs = Object.fromEntries(
    Object.entries(given).filter(([key]) => !inputNames.includes(key)),
  );
  if (info.inputs) {
    const values = Object.fromEntries(
      Object.entries(given).filter(([key]) => inputNames.includes(key)),
    );
    report(sink, info.inputs, values, [...path, "inputs"], true);
  }
  if (method.schema) {
    const merged = { ...definitionArgs, ...inputs };
    report(sink, method.schema, merged, [...path, "inputs"], false, Object.keys(inputs));
    return;
  }
  for (const key of Object.keys(inputs)) {
    if (method.arguments && !method.arguments.includes(key)) {
      sink.add({
        rule: "unknown-argument",
        message: `\`${task.methodName}\` of \`${type}\` takes no argument \`${key}\``,
        hint: didYouMean(key, method.arguments) || `its arguments: ${method.arguments.join(", ")}`,
        path: [...path, "inputs"],
        key,
      });
    }
  }
  for (const required of method.required ?? []) {
    if (!(required in inputs) && !(required in definitionArgs)) {
      sink.add({
        rule: "missing-argument",
        message: `\`${task.methodName}\` of \`${type}\` needs the argument \`${required}\``,
        hint: `set \`inputs.${required}\` on the step or in the model definition's arguments`,
        path,
      });
    }
  }
}

function dependencies(
  node: Data,
  kind: "job" | "step",
  known: Set<string>,
  path: PathSegment[],
  sink: DiagnosticSink,
): string[] {
  const out: string[] = [];
  list(node.dependsOn).forEach((dep, i) => {
    if (typeof dep === "string") {
      sink.add({
        rule: "wrong-type",
        message:
          `a dependency is a map, not a bare name: write \`- ${kind}: ${dep}\` with a condition`,
        hint: `for example {${kind}: ${dep}, condition: {type: succeeded}}`,
        path: [...path, "dependsOn", i],
      });
      return;
    }
    const target = isMap(dep) ? dep[kind] : undefined;
    if (typeof target !== "string") return;
    if (target === node.name) {
      sink.add({
        rule: "dependency-cycle",
        message: `${kind} \`${target}\` depends on itself`,
        path: [...path, "dependsOn", i, kind],
      });
    } else if (!known.has(target)) {
      const scope = kind === "job" ? "in this workflow" : "in this job";
      sink.add({
        rule: "unknown-dependency",
        message: `no ${kind} named \`${target}\` ${scope}`,
        hint: didYouMean(target, known),
        path: [...path, "dependsOn", i, kind],
      });
    } else {
      out.push(target);
    }
  });
  return out;
}

function uniqueNames(items: unknown[], path: PathSegment[], kind: string, sink: DiagnosticSink) {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const name = isMap(item) ? item.name : undefined;
    if (typeof name !== "string") return;
    if (seen.has(name)) {
      sink.add({
        rule: "duplicate-name",
        message: `${kind} name \`${name}\` is used more than once`,
        hint: `${kind} names must be unique${kind === "step" ? " within their job" : ""}`,
        path: [...path, i, "name"],
      });
    }
    seen.add(name);
  });
  return seen;
}

function reportCycles(
  edges: Map<string, string[]>,
  kind: string,
  index: (name: string) => number,
  path: PathSegment[],
  sink: DiagnosticSink,
) {
  for (const cycle of findCycles(edges)) {
    if (cycle.length <= 2) continue; // self-dependency, reported where it is written
    sink.add({
      rule: "dependency-cycle",
      message: `${kind}s depend on each other in a cycle: ${cycle.join(" → ")}`,
      hint: "remove one of these dependsOn entries",
      path: [...path, index(cycle[0]), "dependsOn"],
    });
  }
}

function reportInertKeys(node: Data, path: PathSegment[], sink: DiagnosticSink) {
  for (const key of Object.keys(node)) {
    const feature = inertKeys[key];
    if (feature === undefined) continue;
    sink.add({
      severity: "warning",
      rule: "not-supported",
      message:
        `\`${key}\` is accepted for compatibility, but ${feature} are not supported yet and it has no effect`,
      path,
      key,
    });
  }
}

function indexOf(items: unknown[], name: string): number {
  return items.findIndex((item) => isMap(item) && item.name === name);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isMap(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkGate(task: Data, path: PathSegment[], sink: DiagnosticSink): void {
  if (task.onTimeout === "approve" && task.timeout === undefined) {
    sink.add({
      severity: "warning",
      rule: "inert-key",
      message:
        "`onTimeout` has no effect without a `timeout`: the gate waits until someone decides",
      hint: "add a `timeout` (for example `timeout: 4h`) or remove `onTimeout`",
      path: [...path, "onTimeout"],
    });
  }
  if (Array.isArray(task.approvers) && task.approvers.length === 0) {
    sink.add({
      rule: "no-approvers",
      message: "`approvers` is empty: nobody could ever decide this gate",
      hint: "list who may decide, or remove `approvers` to let anyone decide",
      path: [...path, "approvers"],
    });
  }
}
