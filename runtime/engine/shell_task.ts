import { ErrorCode, SwampError } from "../errors/mod.ts";
import { findDefinitions, type ModelCatalog } from "../model/catalog.ts";
import type { StepWork } from "../ports/executor.ts";
import type { Task } from "../workflow/schema.ts";
import { modelInputs } from "../model/extension_types.ts";

export { durationMs } from "../text/duration.ts";

type ModelMethodTask = Extract<Task, { type: "model_method" }>;

/** What a model_method task acts on, and the lock that serialises runs acting on it. */
export interface ModelTarget {
  type: string;
  definitionName: string;
  method: string;
  /** Global and method arguments of the definition, before the step's inputs. */
  arguments: Record<string, unknown>;
  /** The definition's `inputs` schema (`{properties, required}`), when it declares one. */
  inputs?: Record<string, unknown>;
  /** The input names it declares: step inputs of these names are not arguments. */
  inputNames: string[];
  /** The extension module the type comes from; undefined for a built-in type. */
  extension?: string;
  lock: string;
}

export function resolveModelTarget(task: ModelMethodTask, models: ModelCatalog): ModelTarget {
  const origin = (type: string) => {
    const info = models.types.get(type);
    return info && info.origin !== "builtin" ? info.origin : undefined;
  };
  if (task.modelIdOrName !== undefined) {
    const found = findDefinitions(models, task.modelIdOrName);
    if (found.length !== 1) {
      throw new SwampError(
        ErrorCode.NOT_FOUND,
        found.length === 0
          ? `no model definition named \`${task.modelIdOrName}\` exists`
          : `\`${task.modelIdOrName}\` names ${found.length} model definitions`,
        { hint: "add models/<type>/<name>.yaml, or refer to the model by id" },
      );
    }
    const definition = found[0];
    const declared = modelInputs(definition, models.types.get(definition.type));
    return {
      inputs: declared.schema,
      inputNames: declared.names,
      extension: origin(definition.type),
      type: definition.type,
      definitionName: definition.name,
      method: task.methodName,
      arguments: {
        ...definition.globalArguments,
        ...definition.methods?.[task.methodName]?.arguments,
      },
      lock: `model:${definition.type}/${definition.name}`,
    };
  }
  return {
    inputNames: [],
    extension: origin(task.modelType!),
    type: task.modelType!,
    definitionName: task.modelName ?? task.modelType!,
    method: task.methodName,
    arguments: { ...task.globalArgs },
    lock: `model:${task.modelType}/${task.modelName}`,
  };
}

export interface ShellOptions {
  repoRoot: string;
  env: Record<string, string>;
  runId: string;
  stepId: string;
  timeoutMs?: number;
  graceMs: number;
  outputLimitBytes: number;
}

/** The command/shell `execute` method as executor work. */
export function shellWork(args: Record<string, unknown>, options: ShellOptions): StepWork {
  const run = args.run;
  let command: StepWork["command"];
  if (typeof run === "string" && run.trim() !== "") command = { script: run };
  else if (Array.isArray(run) && run.length > 0 && run.every((a) => typeof a === "string")) {
    command = { argv: run as string[] };
  } else {
    throw new SwampError(
      ErrorCode.INVALID_INPUT,
      "command/shell needs `run`: a script or a list of arguments",
    );
  }
  const env = { ...options.env };
  // `environment` (swamp's name) and `env` both set variables; `env` wins a name both set.
  for (const key of ["environment", "env"] as const) {
    const given = args[key];
    if (given === undefined) continue;
    if (given === null || typeof given !== "object" || Array.isArray(given)) {
      throw new SwampError(
        ErrorCode.INVALID_INPUT,
        `command/shell \`${key}\` must be a map of names to values`,
      );
    }
    for (const [name, value] of Object.entries(given)) env[name] = String(value);
  }
  const cwd = typeof args.workingDir === "string"
    ? (args.workingDir.startsWith("/") ? args.workingDir : `${options.repoRoot}/${args.workingDir}`)
    : options.repoRoot;
  const methodTimeout = typeof args.timeout === "number" && args.timeout > 0
    ? args.timeout
    : undefined;
  const timeouts = [methodTimeout, options.timeoutMs].filter((t): t is number => t !== undefined);
  return {
    runId: options.runId,
    stepId: options.stepId,
    command,
    env,
    cwd,
    timeoutMs: timeouts.length > 0 ? Math.min(...timeouts) : undefined,
    graceMs: options.graceMs,
    outputLimitBytes: options.outputLimitBytes,
  };
}
