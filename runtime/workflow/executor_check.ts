import * as z from "zod/mini";
import { type DiagnosticSink, type PathSegment, reportIssues } from "../diagnostics/mod.ts";
import type { Executor } from "../ports/executor.ts";

type Data = Record<string, unknown>;

/** The executors a workflow file may name in `executor:`, by name. */
export type ExecutorChoices = ReadonlyMap<string, Pick<Executor, "settings" | "runsOnWorkers">>;

const unions = new WeakMap<ExecutorChoices, z.ZodMiniType>();

/**
 * Checks every `executor:` block (workflow, job, step) against the schema of
 * the executor its `type` names. The workflow schema only requires a `type`:
 * the rest belongs to the executor, so a new executor brings its own fields.
 */
export function checkExecutorBlocks(data: Data, sink: DiagnosticSink, choices: ExecutorChoices) {
  const union = unionOf(choices);
  const check = (node: unknown, path: PathSegment[]) => {
    if (!isMap(node) || !isMap(node.executor) || typeof node.executor.type !== "string") return;
    if (!union) {
      sink.add({
        rule: "invalid-value",
        message: `no executor of this build is chosen with \`executor:\``,
        hint: "remove the `executor` block",
        path: [...path, "executor", "type"],
      });
      return;
    }
    const parsed = union.safeParse(node.executor);
    if (!parsed.success) {
      reportIssues(sink, union, node.executor, parsed.error.issues, [...path, "executor"]);
    }
  };
  check(data, []);
  list(data.jobs).forEach((job, j) => {
    check(job, ["jobs", j]);
    if (!isMap(job)) return;
    list(job.steps).forEach((step, s) => {
      const path = ["jobs", j, "steps", s];
      check(step, path);
      if (isMap(step)) checkPlacedExecutor([data, job, step], path, sink, choices);
    });
  });
}

/**
 * A step placed on a worker (`target` or `labels` anywhere above it) runs
 * there with the executor its innermost block names; one that no worker can
 * offer (it runs only where the orchestrator is) is refused, rather than
 * queued for a worker that can never come.
 */
function checkPlacedExecutor(
  nodes: Data[],
  path: PathSegment[],
  sink: DiagnosticSink,
  choices: ExecutorChoices,
): void {
  const block = [...nodes].reverse().map((n) => n.executor).find((e) => e !== undefined);
  const type = isMap(block) ? block.type : undefined;
  // An unknown type is reported by the block's own check.
  const chosen = typeof type === "string" ? choices.get(type) : undefined;
  if (!chosen || chosen.runsOnWorkers) return;
  const placed = nodes.some((n) =>
    n.target !== undefined || (isMap(n.labels) && Object.keys(n.labels).length > 0)
  );
  if (!placed) return;
  const offered = [...choices].filter(([, e]) => e.runsOnWorkers).map(([name]) => name);
  sink.add({
    rule: "invalid-value",
    message: `this step runs in \`executor: ${type}\` and is placed on a remote worker ` +
      `(\`target\`/\`labels\`), but no worker can run ${type}: workers offer ` +
      (offered.join(", ") || "none"),
    hint: `remove \`target\`/\`labels\` to run it here in ${type}, or choose an executor ` +
      "workers offer",
    path,
  });
}

/** One discriminated union of the executors' block schemas (made once per set of executors). */
function unionOf(choices: ExecutorChoices): z.ZodMiniType | undefined {
  let union = unions.get(choices);
  if (!union) {
    const schemas = [...choices.values()].flatMap((e) => e.settings ? [e.settings.schema] : []);
    if (schemas.length === 0) return undefined;
    union = z.discriminatedUnion(
      "type",
      schemas as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]],
    ) as unknown as z.ZodMiniType;
    unions.set(choices, union);
  }
  return union;
}

function isMap(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
