import * as z from "zod/mini";
import { boundedCondition, type Workflow, workflow, workflowSchemas } from "./schema.ts";

// On a large workflow, zod's runtime parser is the slowest part of checking
// it (validate, run, evaluate all do; catalog.ts keeps one result per file).
// zod can compile a schema to specialised code (`z.compile`) that
// checks several times faster, but not a schema with a cycle, and conditions
// nest recursively. So a narrower schema (conditions at most `nesting` levels
// deep) is compiled, once, on the first large workflow: whatever it accepts,
// the full schema accepts too. Anything it does not accept is parsed by the
// full schema, which reports the problems. Compiling costs a few hundred
// milliseconds on a cold process, so small workflows never wait for it, and
// neither does a process's first large workflow unless it is very large: in
// a command that checks one workflow and exits, compiling and then checking
// 10,000 steps takes longer than the full schema does alone (about 280 ms
// against 230 ms here); a process that checks a second one (a server, a
// supervisor of nested runs) compiles then, and every later check is fast.
// docs/design/0008-block-yaml-fast-path.md has the numbers.

/** Steps from which compiling pays for itself. */
export const quickCheckMinSteps = 500;
/** Steps from which compiling pays for itself even for the only workflow a process checks. */
const compileFirstSteps = 40_000;
const nesting = 3;
/** Large workflows this process has checked with the full schema, before compiling. */
let largeChecked = 0;

/** The outcome of checking a document against the workflow schema, as zod reports it. */
export type WorkflowShape = ReturnType<typeof workflow.safeParse>;

/**
 * `data` checked against the workflow schema: by the compiled check when the
 * workflow is large and that accepts it, else by the full schema (whose
 * issues are the ones to report).
 */
export function checkShape(data: unknown): WorkflowShape {
  const quick = worthCompiling(data) ? quickAccept(data) : undefined;
  return quick ? { success: true, data: quick } : workflow.safeParse(data);
}

/** Whether the compiled check is (or is now worth) the way to check `data` (see the top). */
function worthCompiling(data: unknown): boolean {
  if (compiled !== undefined) return true;
  const steps = stepCount(data);
  if (steps < quickCheckMinSteps) return false;
  if (steps >= compileFirstSteps || largeChecked > 0) return true;
  largeChecked++;
  return false;
}

type Check = (data: unknown) => Workflow | undefined;
let compiled: Check | null | undefined;

/** The workflow when `data` is certainly valid; undefined means "ask the full schema". */
export function quickAccept(data: unknown, minSteps = quickCheckMinSteps): Workflow | undefined {
  if (stepCount(data) < minSteps) return undefined;
  compiled ??= compile();
  return compiled?.(data);
}

function compile(): Check | null {
  try {
    const schema = z.compile(workflowSchemas(boundedCondition(nesting)).workflow, { strict: true });
    return (data) => schema.safeParse(data).data;
  } catch {
    return null; // a zod that cannot compile it: the full schema does all the work
  }
}

function stepCount(data: unknown): number {
  const jobs = (data as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(jobs)) return 0;
  let count = 0;
  for (const job of jobs) {
    const steps = (job as { steps?: unknown } | null)?.steps;
    if (Array.isArray(steps)) count += steps.length;
  }
  return count;
}
