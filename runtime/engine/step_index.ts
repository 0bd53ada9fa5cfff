import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { isExpansion, templateIdOf } from "./scheduler.ts";

/**
 * A run's steps grouped for the engine: the top-level steps of each job, and
 * the expansions of each forEach step. Rebuilt only when the record changed
 * shape (a new record object, or steps added).
 */
export class StepIndex {
  byJob = new Map<string, Step[]>();
  expansions = new Map<string, Step[]>();
  private generation = -1;
  private stepCount = -1;

  /** `generation` changes whenever the journal replaced its record object. */
  refresh(run: Run, generation: number): void {
    if (this.generation === generation && this.stepCount === run.steps.length) return;
    this.generation = generation;
    this.stepCount = run.steps.length;
    this.byJob = new Map();
    this.expansions = new Map();
    for (const step of run.steps) {
      const [map, key] = isExpansion(step)
        ? [this.expansions, templateIdOf(step)]
        : [this.byJob, step.job];
      const list = map.get(key);
      if (list) list.push(step);
      else map.set(key, [step]);
    }
  }
}
