import * as z from "zod/mini";
import { type DiagnosticSink, type PathSegment, reportIssues } from "../diagnostics/mod.ts";
import type { Executor } from "../ports/executor.ts";

type Data = Record<string, unknown>;

/** The executors a workflow file may name in `executor:`, by name. */
export type ExecutorChoices = ReadonlyMap<string, Pick<Executor, "settings">>;

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
    if (isMap(job)) list(job.steps).forEach((step, s) => check(step, ["jobs", j, "steps", s]));
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
