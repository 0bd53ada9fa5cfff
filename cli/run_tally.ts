import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import { type Run, RunStatus, type Step, StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { stepStatusText } from "../runtime/mod.ts";

// The counts a live summary shows, kept up to date one event at a time. Each
// event costs the same however large the run is: a 10,000-item fan-out must
// not make every event rescan every step (issue 17: no quadratic redraw).

/** A step as the summary knows it. */
interface Tracked {
  status: StepStatus;
  /** What to call it: an item's evaluated name, else its id. */
  label: string;
}

/** A step that has just failed (or was abandoned), to print above the summary. */
export interface Failure {
  stepId: string;
  label: string;
  status: string;
  reason: string;
}

export class RunTally {
  readonly #steps = new Map<string, Tracked>();
  /** forEach steps that expanded: their items are counted, not them. */
  readonly #templates = new Set<string>();
  readonly #counts = new Map<StepStatus, number>();
  /** Running steps in the order they started (a Map keeps insertion order). */
  readonly #running = new Map<string, string>();
  #revision = 0n;
  runStatus: RunStatus = RunStatus.UNSPECIFIED;
  startMs: number | undefined;

  /** Takes the run as it stands; returns the steps that had already failed. */
  seed(run: Run): Failure[] {
    this.#revision = run.revision;
    this.runStatus = run.status;
    const start = run.startTime ?? run.createTime;
    if (start) this.startMs = msOf(start);
    for (const step of run.steps) if (step.templateId) this.#templates.add(step.templateId);
    const failed: Failure[] = [];
    for (const step of run.steps) {
      this.#track(step.id, step.status, labelOf(step));
      if (isFailure(step.status) && !this.#templates.has(step.id)) {
        failed.push(this.#failure(step.id, step.reason));
      }
    }
    return failed;
  }

  /** Folds one event in; returns the failure it reports, if it reports one. */
  apply(event: RunEvent): Failure | undefined {
    // Events the seeding run already held are counted once.
    if (event.seq <= this.#revision) return undefined;
    const p = event.payload;
    if (p.case === "runCreated" && p.value.run) {
      this.seed(p.value.run);
      return undefined;
    }
    if (p.case === "runStatusChanged") {
      this.runStatus = p.value.to;
      if (this.startMs === undefined && p.value.to === RunStatus.RUNNING && event.time) {
        this.startMs = msOf(event.time);
      }
    }
    if (p.case !== "stepStatusChanged") return undefined;
    const change = p.value;
    if (change.added) {
      const template = change.added.templateId;
      if (template && !this.#templates.has(template)) {
        this.#templates.add(template);
        this.#untrack(template);
      }
      this.#track(change.stepId, change.to, labelOf(change.added));
      return undefined;
    }
    const known = this.#steps.get(change.stepId);
    const was = known?.status;
    this.#track(change.stepId, change.to, known?.label ?? change.stepId);
    // A forEach step's own failure sums up its items, each already reported.
    return isFailure(change.to) && was !== change.to &&
        !this.#templates.has(change.stepId)
      ? this.#failure(change.stepId, event.reason)
      : undefined;
  }

  /** Steps (items and plain steps) by status; a forEach step itself is not one. */
  count(status: StepStatus): number {
    return this.#counts.get(status) ?? 0;
  }

  get total(): number {
    return this.#steps.size - this.#templateCount();
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** The running steps' labels, oldest first, while `take` wants more. */
  runningLabels(take: (label: string) => boolean): void {
    for (const label of this.#running.values()) if (!take(label)) return;
  }

  #templateCount(): number {
    let n = 0;
    for (const id of this.#templates) if (this.#steps.has(id)) n++;
    return n;
  }

  #track(id: string, status: StepStatus, label: string): void {
    const before = this.#steps.get(id);
    const template = this.#templates.has(id);
    if (before) {
      if (!template) this.#bump(before.status, -1);
      // Updated in place: a change allocates nothing, however many changes a big run makes.
      before.status = status;
      before.label = label;
    } else this.#steps.set(id, { status, label });
    if (template) return;
    this.#bump(status, 1);
    if (status === StepStatus.RUNNING) this.#running.set(id, label);
    else this.#running.delete(id);
  }

  #untrack(id: string): void {
    const step = this.#steps.get(id);
    if (!step) return;
    this.#bump(step.status, -1);
    this.#running.delete(id);
  }

  #bump(status: StepStatus, by: number): void {
    this.#counts.set(status, (this.#counts.get(status) ?? 0) + by);
  }

  #failure(stepId: string, reason: string): Failure {
    const step = this.#steps.get(stepId)!;
    return { stepId, label: step.label, status: stepStatusText(step.status), reason };
  }
}

function msOf(time: Timestamp): number {
  return Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6);
}

function isFailure(status: StepStatus): boolean {
  return status === StepStatus.FAILED || status === StepStatus.ABANDONED;
}

/** A forEach item by the name its template evaluated to; any other step by its id. */
function labelOf(step: Step): string {
  return step.templateId && step.name ? step.name : step.id;
}
