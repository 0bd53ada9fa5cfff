import * as z from "zod/mini";
import { boundedCondition, workflowSchemas } from "./schema.ts";

// On a large workflow, zod's runtime parser is the slowest part of
// `validate`. zod can compile a schema to specialised code (`z.compile`) that
// checks several times faster, but not a schema with a cycle, and conditions
// nest recursively. So a narrower schema (conditions at most `nesting` levels
// deep) is compiled, once, on the first large workflow: whatever it accepts,
// the full schema accepts too. Anything it does not accept is parsed by the
// full schema, which reports the problems. Compiling costs a few hundred
// milliseconds on a cold process, so small workflows never wait for it.
// docs/design/0008-block-yaml-fast-path.md has the numbers.

/** Steps from which compiling pays for itself. */
export const quickCheckMinSteps = 500;
const nesting = 3;

type Check = (data: unknown) => boolean;
let compiled: Check | null | undefined;

/** True when `data` is certainly a valid workflow; false means "ask the full schema". */
export function quickAccept(data: unknown, minSteps = quickCheckMinSteps): boolean {
  if (stepCount(data) < minSteps) return false;
  compiled ??= compile();
  return compiled !== null && compiled(data);
}

function compile(): Check | null {
  try {
    const schema = z.compile(workflowSchemas(boundedCondition(nesting)).workflow, { strict: true });
    return (data) => schema.safeParse(data).success;
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
