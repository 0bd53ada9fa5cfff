// A model_method step of an extension type: the method runs as the step's
// command (a sandboxed subprocess prepared by the ExtensionMethodRunner port),
// through the step's executor like any command/shell step (logs, cancel,
// timeout, exit). What it returned (Finish) becomes the step's outputs; what
// it wrote is data items, counted in the step's reason.
import type { JsonObject } from "@bufbuild/protobuf";
import { StepStatus } from "../run/status.ts";
import type { EngineDeps } from "./deps.ts";
import type { ModelTarget } from "./shell_task.ts";
import { findDefinitions } from "../model/catalog.ts";
import type { DataItem } from "../ports/data.ts";
import type { PreparedMethod } from "../ports/extension_methods.ts";
import type { SecretMask } from "../text/secret_mask.ts";

type Outcome = { status: StepStatus; reason: string; exitCode?: number; outputs?: JsonObject };

export interface ExtensionStep {
  deps: EngineDeps;
  target: ModelTarget;
  /** The rendered arguments (global and method arguments, and the step's inputs). */
  args: Record<string, unknown>;
  /** The step's own inputs as written (searched for the secrets it declares). */
  rawInputs: unknown;
  runId: string;
  stepId: string;
  attempt: number;
  mask?: SecretMask;
  /** The step is placed on a remote worker, which runs the method from a bundle. */
  remote?: boolean;
  /** Runs the command as a command/shell step would (on a worker: the extension instead). */
  runShell(
    args: Record<string, unknown>,
    extension?: PreparedMethod["extension"],
  ): Promise<Outcome>;
}

/** `vault.get("V", "K")` calls written in a definition or a step: the secrets it may read. */
export function declaredSecrets(...sources: unknown[]): string[] {
  const found = new Set<string>();
  const pattern = /vault\.get\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']\s*\)/g;
  for (const source of sources) {
    for (const match of JSON.stringify(source ?? null).replaceAll('\\"', '"').matchAll(pattern)) {
      found.add(`${match[1]}/${match[2]}`);
    }
  }
  return [...found];
}

export async function runExtensionStep(step: ExtensionStep): Promise<Outcome> {
  const { deps, target } = step;
  if (!deps.extensionMethods) {
    return {
      status: StepStatus.FAILED,
      reason: `model type \`${target.type}\` comes from the extension ${target.extension}: ` +
        "this process has no extension method runner",
    };
  }
  const info = deps.models.types.get(target.type);
  const schemas = info?.extension;
  if (!schemas || !schemas.methods[target.method]) {
    return {
      status: StepStatus.FAILED,
      reason:
        `model type \`${target.type}\` (${target.extension}) has no method \`${target.method}\`` +
        (schemas ? "" : ": its module did not load; run `swamp workflow validate` to see why"),
    };
  }
  const definition = findDefinitions(deps.models, target.definitionName)[0];
  const globalNames = Object.keys(definition?.globalArguments ?? {});
  const methodNames = Object.keys(definition?.methods?.[target.method]?.arguments ?? {});
  const globalArgs: Record<string, unknown> = {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(step.args)) {
    if (globalNames.includes(key) && !methodNames.includes(key)) globalArgs[key] = value;
    else args[key] = value;
  }
  const prepared = await deps.extensionMethods.prepare({
    runId: step.runId,
    stepId: step.stepId,
    attempt: step.attempt,
    repoRoot: deps.repoRoot,
    module: target.extension!,
    definition: {
      id: definition?.id ?? "",
      name: target.definitionName,
      version: String(definition?.version ?? schemas.version ?? ""),
      type: target.type,
    },
    methodName: target.method,
    globalArgs,
    args,
    resourceSpecs: schemas.resources.map((r) => r.name),
    secrets: declaredSecrets(definition?.globalArguments, definition?.methods, step.rawInputs),
    onSecret: (value) => step.mask?.add(value),
    ...(step.remote ? { remote: true } : {}),
  });
  let outcome: Outcome;
  let ended: Awaited<ReturnType<typeof prepared.end>>;
  try {
    outcome = await step.runShell({ run: prepared.argv, env: prepared.env }, prepared.extension);
  } finally {
    ended = await prepared.end();
  }
  return finish(outcome, ended);
}

function finish(
  outcome: Outcome,
  ended: { finished: boolean; result?: unknown; error?: string; writes: DataItem[] },
): Outcome {
  const wrote = ended.writes.length === 0
    ? ""
    : `wrote ${ended.writes.length} data item${ended.writes.length === 1 ? "" : "s"} (${
      ended.writes.map((w) => `${w.name} v${w.version}`).join(", ")
    })`;
  const base = { ...outcome.outputs } as JsonObject;
  delete base.stdout;
  delete base.stdoutTruncated;
  if (ended.writes.length > 0) {
    base.data = ended.writes.map((w) => ({ name: w.name, spec: w.spec, version: w.version }));
  }
  if (outcome.status !== StepStatus.SUCCEEDED) {
    const why = ended.error ? `extension method: ${ended.error}` : outcome.reason;
    return { ...outcome, reason: [why, wrote].filter(Boolean).join("; "), outputs: base };
  }
  if (!ended.finished) {
    return {
      status: StepStatus.FAILED,
      reason: "the extension method ended without returning (no Finish call)",
      exitCode: outcome.exitCode,
      outputs: base,
    };
  }
  const result = ended.result;
  const outputs: JsonObject =
    result !== null && typeof result === "object" && !Array.isArray(result)
      ? { ...(result as JsonObject), ...(base.data ? { data: base.data } : {}) }
      : {
        result: (result ?? null) as JsonObject[string],
        ...(base.data ? { data: base.data } : {}),
      };
  return { status: StepStatus.SUCCEEDED, reason: wrote, exitCode: outcome.exitCode, outputs };
}
