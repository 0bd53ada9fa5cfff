import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { StepStatusChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { type Run, type Step, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { renderTemplate } from "../expressions/template.ts";
import type { EventDraft } from "../run/journal.ts";
import { StepStatus } from "../run/status.ts";
import type { EngineDeps } from "./deps.ts";
import { stepVariables } from "./identity.ts";
import { stepId } from "./plan.ts";
import { stepDraft } from "./step_runner.ts";

// Fanning a forEach step out: its `in` evaluated, one step per item with its
// evaluated name and id, written as one append. Starting the items (in order,
// within the caps) is the engine's.

export interface ExpansionContext {
  run: Run;
  step: Step;
  siblings: Step[];
  inputs: Record<string, unknown>;
  env: Record<string, string>;
  forEach: { item: string; in?: unknown };
  /** The forEach step's `name` as written (it may be a template per item). */
  nameTemplate: string;
}

/** The events of the expansion, and the ids of the steps it adds (none when it ended at once). */
export async function expansionPlan(
  deps: EngineDeps,
  context: ExpansionContext,
): Promise<{ drafts: EventDraft[]; ids: string[] }> {
  const { run, step, siblings, inputs, env, forEach } = context;
  const ended = (status: StepStatus, reason: string) => ({
    drafts: [stepDraft(step.id, StepStatus.PENDING, status, reason)],
    ids: [],
  });
  let source: unknown;
  try {
    source = await renderTemplate(
      forEach.in,
      stepVariables({ run, step, siblings, inputs, env }),
      deps.evaluator,
      `forEach of ${step.id}`,
    );
  } catch (error) {
    return ended(StepStatus.FAILED, (error as Error).message);
  }
  if (source === null || typeof source !== "object") {
    return ended(StepStatus.FAILED, `forEach.in must be a list or a map, not ${typeof source}`);
  }
  const entries: [string, unknown][] = Array.isArray(source)
    ? source.map((value) => ["", value])
    : Object.entries(source);
  if (entries.length === 0) return ended(StepStatus.SUCCEEDED, "no items");
  const names = await Promise.all(entries.map(async ([key, value], index) => {
    const item = { name: forEach.item, value: key ? { key, value } : value };
    const vars = stepVariables({
      siblings,
      run,
      step: { ...step, itemIndex: index, itemKey: key },
      item,
      inputs,
      env,
    });
    return String(
      await renderTemplate(context.nameTemplate, vars, deps.evaluator, `name of ${step.id}`),
    );
  }));
  const ids = expansionIds(step, names, siblings);
  const added: EventDraft[] = entries.map(([key, value], index) => ({
    payload: {
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, {
        stepId: ids[index],
        from: StepStatus.UNSPECIFIED,
        to: StepStatus.PENDING,
        added: create(StepSchema, {
          id: ids[index],
          templateId: step.id,
          name: names[index],
          job: step.job,
          status: StepStatus.PENDING,
          itemIndex: index,
          itemKey: key,
          item: fromJson(ValueSchema, (key ? { key, value } : value ?? null) as JsonValue),
          allowFailure: step.allowFailure,
        }),
      }),
    },
  }));
  return {
    drafts: [
      stepDraft(step.id, StepStatus.PENDING, StepStatus.RUNNING, `${entries.length} items`),
      ...added,
    ],
    ids,
  };
}

/**
 * Expansion ids: "<job>/<evaluated name>" when the forEach step's name is a
 * template that gives every item a distinct name, "<job>/<step>[i]" otherwise.
 */
function expansionIds(template: Step, names: string[], siblings: Step[]): string[] {
  const distinct = namedApart(template.name, names, siblings.map((s) => s.name));
  return names.map((name, index) =>
    distinct ? stepId(template.job, name) : stepId(template.job, template.name, index)
  );
}

/** Whether evaluated item names name every item apart (and clash with no step): ids by name. */
export function namedApart(template: string, names: string[], stepNames: string[]): boolean {
  const taken = new Set(stepNames);
  return new Set(names).size === names.length &&
    names.every((name) => name !== template && !taken.has(name) && !/[\[\]]/.test(name));
}
