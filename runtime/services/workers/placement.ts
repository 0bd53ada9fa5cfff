// Placement: which connected worker may run a step. A step names a worker
// (`target`: its name or id) and/or labels every one of which the worker
// must carry with the same value; a step with neither fits any worker.

/** Where a step may run. */
export interface Placement {
  /** A worker's name or id. */
  target?: string;
  /** Labels the worker must carry, each with this exact value. */
  labels?: Readonly<Record<string, string>>;
}

/** What placement needs to know of a worker. */
export interface Candidate {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Connected, not draining. */
  accepting: boolean;
  /** Steps it runs now, and how many it runs at once. */
  running: number;
  concurrency: number;
}

/** Whether `worker` fits `placement`, ignoring whether it is free. */
export function fits(worker: Candidate, placement: Placement): boolean {
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

function describe(placement: Placement): string {
  const parts: string[] = [];
  if (placement.target) parts.push(`is ${JSON.stringify(placement.target)}`);
  const labels = Object.entries(placement.labels ?? {});
  if (labels.length > 0) {
    parts.push(
      `has labels {${labels.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`,
    );
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
  const fitting = workers.filter((worker) => fits(worker, placement));
  if (fitting.length === 0) return `no connected worker ${describe(placement)}; ${count}`;
  const accepting = fitting.filter((worker) => worker.accepting);
  if (accepting.length === 0) {
    return `every worker that ${describe(placement)} is draining; ${count}`;
  }
  return `every worker that ${describe(placement)} is busy ` +
    `(${accepting.length} at their concurrency); ${count}`;
}
