import type { JsonObject } from "@bufbuild/protobuf";
import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { isTerminalStep, StepStatus, stepStatusText } from "../run/status.ts";
import { stepId } from "./plan.ts";

// The `steps` CEL variable, fan-outs included (docs/design/0018-fan-out-outputs.md):
// a forEach step reads as the list of its items' outputs in item order, with
// their names, counts and failed names; each item is also there by its resolved
// name, and a templated forEach step also by its stem (`deploy` for
// `deploy-${{ self.host }}`), since a name holding `${{ }}` cannot be written
// inside an expression.

const counted = ["succeeded", "failed", "skipped", "cancelled", "abandoned"] as const;

/** The expansions of each forEach step of a record, kept until steps are added. */
const expansionsOf = new WeakMap<Run, { count: number; byTemplate: Map<string, Step[]> }>();
/** A finished fan-out's variable, kept while it stays finished in the same attempt. */
const finished = new WeakMap<Step, { key: string; value: Record<string, unknown> }>();

export function stepsVariable(run: Run, siblings: readonly Step[]): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (const other of siblings) {
    steps[other.name] = {
      status: stepStatusText(other.status),
      exitCode: other.exitCode,
      outputs: other.outputs ?? {},
    };
  }
  const taken = new Set(Object.keys(steps));
  for (const other of siblings) {
    const items = expansions(run).get(other.id);
    if (!items) continue;
    const fan = fanOutVariable(run, other, items);
    // A templated name cannot be written inside `${{ }}`: it is there by its stem
    // alone, so the variable does not carry the whole fan-out twice.
    const stem = stemOf(other.name);
    if (!stem) steps[other.name] = fan;
    else {
      delete steps[other.name];
      if (!taken.has(stem)) steps[stem] = fan;
    }
    for (const item of items) {
      // Only items named apart have a name of their own (`<job>/<name>` ids).
      if (item.id !== stepId(item.job, item.name) || taken.has(item.name)) continue;
      steps[item.name] = {
        status: stepStatusText(item.status),
        exitCode: item.exitCode,
        outputs: item.outputs ?? {},
      };
    }
  }
  return steps;
}

/** `deploy` for `deploy-${{ self.host }}`: the text before the first expression, separators trimmed. */
export function stemOf(name: string): string {
  const at = name.indexOf("${{");
  if (at < 0) return "";
  return name.slice(0, at).replace(/[\s\-_.:/]+$/, "");
}

function expansions(run: Run): Map<string, Step[]> {
  const known = expansionsOf.get(run);
  if (known && known.count === run.steps.length) return known.byTemplate;
  const byTemplate = new Map<string, Step[]>();
  for (const step of run.steps) {
    if (step.itemIndex < 0 || !step.templateId) continue;
    const list = byTemplate.get(step.templateId);
    if (list) list.push(step);
    else byTemplate.set(step.templateId, [step]);
  }
  for (const list of byTemplate.values()) list.sort((a, b) => a.itemIndex - b.itemIndex);
  expansionsOf.set(run, { count: run.steps.length, byTemplate });
  return byTemplate;
}

/**
 * A forEach step as a variable. Its items are filled in once it has ended
 * (a step that depends on it always sees it ended); building them while it
 * runs would cost every one of its items the whole list.
 */
function fanOutVariable(run: Run, template: Step, items: Step[]): Record<string, unknown> {
  const ended = isTerminalStep(template.status);
  const key = `${run.attempt}:${template.status}:${items.length}`;
  const kept = finished.get(template);
  if (ended && kept?.key === key) return kept.value;
  const counts: Record<string, number> = { total: items.length };
  for (const word of counted) counts[word] = 0;
  const failed: string[] = [];
  const outputs: JsonObject[] = [];
  const names: string[] = [];
  if (ended) {
    for (const item of items) {
      const word = stepStatusText(item.status);
      counts[word] = (counts[word] ?? 0) + 1;
      if (item.status === StepStatus.FAILED) failed.push(item.name);
      outputs.push(item.outputs ?? {});
      names.push(item.name);
    }
  }
  const value = {
    status: stepStatusText(template.status),
    exitCode: template.exitCode,
    outputs,
    // Text, not a map per item: lists of maps are what costs most to load into the sandbox.
    names,
    counts,
    failed,
  };
  if (ended) finished.set(template, { key, value });
  return value;
}
