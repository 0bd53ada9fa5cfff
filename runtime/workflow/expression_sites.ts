import type { PathSegment } from "../diagnostics/mod.ts";

// Where a workflow file holds expressions, so validation can check each one
// at its own file:line:column. Templates (`${{ … }}` inside a value) and the
// raw CEL of `assert.expr` both count.

export interface ExpressionSite {
  path: PathSegment[];
  expression: string;
  /** Placement (`target`, `labels`): a value that must resolve before any worker is chosen. */
  placement: boolean;
}

/** The variables every expression may name (DESIGN §9, docs/reference/runs.md#identity). */
export const KNOWN_VARIABLES = [
  "inputs",
  "env",
  "self",
  "run",
  "job",
  "step",
  "item",
  "worker",
  "steps",
  "data",
];

const embedded = /\$\{\{([\s\S]*?)\}\}/g;

export function expressionSites(workflow: unknown): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  const root = asObject(workflow);
  if (!root) return sites;
  placementSites(root, [], sites);
  asArray(root.jobs).forEach((job, j) => {
    const jobObject = asObject(job);
    if (!jobObject) return;
    placementSites(jobObject, ["jobs", j], sites);
    asArray(jobObject.steps).forEach((step, s) => {
      const stepObject = asObject(step);
      if (!stepObject) return;
      // Paths are built only for values that hold a template: a large
      // workflow has few, and a path per value would cost more than the scan.
      const at = (...keys: PathSegment[]): PathSegment[] => ["jobs", j, "steps", s, ...keys];
      const visit = (value: unknown, ...keys: PathSegment[]) => {
        if (holdsTemplate(value)) templates(value, at(...keys), sites, false);
      };
      placementSites(stepObject, at(), sites);
      visit(stepObject.name, "name");
      visit(stepObject.guard, "guard");
      visit(asObject(stepObject.forEach)?.in, "forEach", "in");
      const task = asObject(stepObject.task);
      if (!task) return;
      visit(task.inputs, "task", "inputs");
      visit(task.prompt, "task", "prompt");
      visit(task.message, "task", "message");
      if (task.type === "assert" && typeof task.expr === "string") {
        sites.push({ path: at("task", "expr"), expression: task.expr, placement: false });
      }
    });
  });
  return sites;
}

function holdsTemplate(value: unknown): boolean {
  if (typeof value === "string") return value.includes("${{");
  if (value === null || typeof value !== "object") return false;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (holdsTemplate(item)) return true;
  }
  return false;
}

function placementSites(node: Record<string, unknown>, at: PathSegment[], out: ExpressionSite[]) {
  if (holdsTemplate(node.target)) templates(node.target, [...at, "target"], out, true);
  if (holdsTemplate(node.labels)) templates(node.labels, [...at, "labels"], out, true);
}

function templates(value: unknown, path: PathSegment[], out: ExpressionSite[], placement: boolean) {
  if (typeof value === "string") {
    for (const match of value.matchAll(embedded)) {
      out.push({ path, expression: match[1].trim(), placement });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => templates(item, [...path, i], out, placement));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      templates(item, [...path, key], out, placement);
    }
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
