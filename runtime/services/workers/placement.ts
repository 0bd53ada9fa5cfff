// Placement: which connected worker may run a step. A step names a worker
// (`target`: its name or id) and/or labels every one of which the worker
// must carry with the same value; a step with neither fits any worker. The
// worker must also offer the executor the step runs with (loopback unless
// the step's `executor:` says otherwise).
import { ErrorCode, SwampError } from "../../errors/mod.ts";
import { defaultWorkerExecutor } from "../../ports/executor.ts";

/** Where a step may run. */
export interface Placement {
  /** A worker's name or id. */
  target?: string;
  /** Labels the worker must carry, each with this exact value. */
  labels?: Readonly<Record<string, string>>;
  /** The worker executor it runs with; default loopback. */
  executor?: string;
  /** The lowest protocol version the worker must speak (extension methods need 2). */
  minProtocol?: number;
}

export { defaultWorkerExecutor };

const executorName = /^[a-z][a-z0-9-]{0,31}$/;

/** Refuses a hello whose executor names could not be an executor's (usage). */
export function checkExecutorNames(names: readonly string[]): void {
  const bad = names.find((name) => !executorName.test(name));
  if (names.length > 16 || bad !== undefined) {
    throw new SwampError(
      ErrorCode.USAGE,
      bad === undefined
        ? `a worker offers ${names.length} executors, more than 16`
        : `\`${bad}\` is not an executor's name`,
      { hint: "name the executors with `swamp worker connect --executor NAME`" },
    );
  }
}

/** What placement needs to know of a worker. */
export interface Candidate {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** The executors it offers. */
  executors: readonly string[];
  /** Connected, not draining. */
  accepting: boolean;
  /** Steps it runs now, and how many it runs at once. */
  running: number;
  concurrency: number;
  /** The protocol version agreed with it. */
  protocol: number;
}

/** Whether `worker` fits `placement`, ignoring whether it is free. */
export function fits(worker: Candidate, placement: Placement): boolean {
  return isAt(worker, placement) && offers(worker, placement);
}

function offers(worker: Candidate, placement: Placement): boolean {
  return worker.executors.includes(placement.executor || defaultWorkerExecutor) &&
    worker.protocol >= (placement.minProtocol ?? 1);
}

/** Whether `worker` is where `placement` asks (target and labels), whatever it offers. */
function isAt(worker: Candidate, placement: Placement): boolean {
  if (placement.target && placement.target !== worker.name && placement.target !== worker.id) {
    return false;
  }
  for (const [key, value] of Object.entries(placement.labels ?? {})) {
    if (worker.labels[key] !== value) return false;
  }
  return true;
}

/** The free worker that fits, preferring the least loaded; undefined when none does. */
export function choose(workers: Iterable<Candidate>, placement: Placement): Candidate | undefined {
  let best: Candidate | undefined;
  for (const worker of workers) {
    if (!worker.accepting || worker.running >= worker.concurrency) continue;
    if (!fits(worker, placement)) continue;
    if (!best || worker.running / worker.concurrency < best.running / best.concurrency) {
      best = worker;
    }
  }
  return best;
}

/** What a fitting worker is, e.g. `has labels {gpu: "true"} and offers the docker executor`. */
function describe(placement: Placement, withExecutor = true): string {
  const parts: string[] = [];
  if (placement.target) parts.push(`is ${JSON.stringify(placement.target)}`);
  const labels = Object.entries(placement.labels ?? {});
  if (labels.length > 0) {
    parts.push(
      `has labels {${labels.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`,
    );
  }
  // The default executor is named only where it is what is missing.
  const executor = placement.executor || defaultWorkerExecutor;
  if (withExecutor && executor !== defaultWorkerExecutor) {
    parts.push(`offers the ${executor} executor`);
  }
  return parts.join(" and ") || "can take a step";
}

/**
 * Why a step waits, for `status` and `watch`, e.g. `no connected worker has
 * labels {gpu: "true"}; 2 workers connected`.
 */
export function queueReason(workers: readonly Candidate[], placement: Placement): string {
  const connected = workers.length;
  const count = `${connected} worker${connected === 1 ? "" : "s"} connected`;
  const at = workers.filter((worker) => isAt(worker, placement));
  if (at.length === 0) return `no connected worker ${describe(placement)}; ${count}`;
  const fitting = at.filter((worker) => offers(worker, placement));
  if (fitting.length === 0) {
    const where = placement.target || Object.keys(placement.labels ?? {}).length > 0
      ? ` that ${describe(placement, false)}`
      : "";
    const needed = placement.minProtocol ?? 1;
    if (at.some((w) => w.executors.includes(placement.executor || defaultWorkerExecutor))) {
      return `no connected worker${where} speaks protocol ${needed} or later, which ` +
        `running an extension method needs (upgrade the worker); ${count}`;
    }
    const offered = [...new Set(at.flatMap((worker) => worker.executors))].sort();
    return `no connected worker${where} offers the ` +
      `${placement.executor || defaultWorkerExecutor} executor (${
        at.length === 1 ? "it offers" : "they offer"
      } ${offered.join(", ") || "none"}); ${count}`;
  }
  const accepting = fitting.filter((worker) => worker.accepting);
  if (accepting.length === 0) {
    return `every worker that ${describe(placement)} is draining; ${count}`;
  }
  return `every worker that ${describe(placement)} is busy ` +
    `(${accepting.length} at their concurrency); ${count}`;
}
