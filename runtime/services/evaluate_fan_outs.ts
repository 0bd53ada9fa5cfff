import { namedApart } from "../engine/expansion.ts";
import { stemOf } from "../engine/fan_out_variables.ts";
import { embedded, renderTemplate } from "../expressions/template.ts";
import type { Unresolved } from "../expressions/ahead.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";

// `workflow evaluate` resolves `steps.<name>` as a run will
// (docs/design/0018-fan-out-outputs.md): it says which step each reference
// reads, a fan-out's aggregate or one of its items, and the items' names when
// they can be known before the run.

interface StepShape {
  name?: unknown;
  forEach?: { item?: unknown; in?: unknown };
}

/** What a `steps.` key reads, per job, as text for the unresolved reasons. */
async function stepKeys(
  definition: unknown,
  scope: { inputs: Record<string, unknown>; env: Record<string, string> },
  evaluator: ExpressionEvaluator,
): Promise<Map<number, Map<string, string>>> {
  const out = new Map<number, Map<string, string>>();
  const jobs = (definition as { jobs?: { steps?: StepShape[] }[] })?.jobs ?? [];
  for (const [j, job] of jobs.entries()) {
    const keys = new Map<string, string>();
    const steps = (job?.steps ?? []).filter((s) => typeof s?.name === "string");
    const names = steps.map((s) => s.name as string);
    for (const step of steps) {
      const name = step.name as string;
      if (!step.forEach) {
        keys.set(name, `step \`${name}\``);
        continue;
      }
      const items = await itemNames(step, scope, evaluator);
      const listed = items
        ? `: ${items.length} items (${items.slice(0, 10).join(", ")}${
          items.length > 10 ? ", …" : ""
        })`
        : "";
      const aggregate = `forEach step \`${name}\`, its items' outputs in item order${listed}`;
      const stem = stemOf(name);
      if (!stem) keys.set(name, aggregate);
      else if (!names.includes(stem)) keys.set(stem, aggregate);
      if (items && namedApart(name, items, names)) {
        for (const item of items) keys.set(item, `item \`${item}\` of forEach step \`${name}\``);
      }
    }
    out.set(j, keys);
  }
  return out;
}

/** The items' evaluated names, when `in` and the name need only what is known before a run. */
async function itemNames(
  step: StepShape,
  scope: { inputs: Record<string, unknown>; env: Record<string, string> },
  evaluator: ExpressionEvaluator,
): Promise<string[] | undefined> {
  const source = step.forEach?.in;
  const item = step.forEach?.item;
  if (typeof item !== "string" || source === null || typeof source !== "object") return undefined;
  if (JSON.stringify(source).match(embedded)) return undefined;
  const entries: [string, unknown][] = Array.isArray(source)
    ? source.map((value) => ["", value])
    : Object.entries(source);
  try {
    return await Promise.all(entries.map(async ([key, value], index) =>
      String(
        await renderTemplate(
          step.name,
          {
            ...scope,
            self: { [item]: key ? { key, value } : value },
            item: { index, key },
          },
          evaluator,
          "name",
        ),
      )
    ));
  } catch {
    return undefined; // the name needs the run (run.id, …): known only then
  }
}

/** The unresolved `steps.…` references, each with what it will read. */
export async function explainStepReferences(
  definition: unknown,
  unresolved: Unresolved[],
  scope: { inputs: Record<string, unknown>; env: Record<string, string> },
  evaluator: ExpressionEvaluator,
): Promise<Unresolved[]> {
  if (!unresolved.some((u) => /\bsteps\b/.test(u.expression))) return unresolved;
  const keys = await stepKeys(definition, scope, evaluator);
  return unresolved.map((u) => {
    const job = Number(u.path.match(/^jobs\[(\d+)\]/)?.[1] ?? -1);
    const known = keys.get(job);
    if (!known) return u;
    const reads = [...u.expression.matchAll(/\bsteps(?:\.(\w+)|\[\s*(['"])(.*?)\2\s*\])/g)]
      .map((m) => m[1] ?? m[3])
      .map((key) =>
        `${/^[A-Za-z_]\w*$/.test(key) ? `steps.${key}` : `steps["${key}"]`} is ${
          known.get(key) ?? "no step of this job"
        }`
      );
    return reads.length > 0
      ? { ...u, reason: `${u.reason}; ${[...new Set(reads)].join("; ")}` }
      : u;
  });
}
