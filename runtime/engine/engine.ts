import { pokeOnOutsideChanges } from "./outside_changes.ts";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { Run, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import { renderTemplate } from "../expressions/template.ts";
import type { EventDraft, RunJournal } from "../run/journal.ts";
import { findStep } from "../run/fold.ts";
import { isOwnershipLost } from "../run/fencing.ts";
import { isSettledRun, isTerminalStep, RunStatus, StepStatus } from "../run/status.ts";
import type { Workflow } from "../workflow/schema.ts";
import type { EngineDeps } from "./deps.ts";
import { declaredEnv, stepVariables } from "./identity.ts";
import { guarded } from "./conditions.ts";
import { placementTemplates } from "./placement.ts";
import { LockKeeper } from "./locks.ts";
import { DefinitionIndex } from "./plan.ts";
import { aggregate, decide, isExpansion, type RunView, templateIdOf } from "./scheduler.ts";
import { expansionPlan } from "./expansion.ts";
import { reachGate, suspendDraft } from "./gate_steps.ts";
import { expiryDrafts, hasWaitingStep } from "../run/gates.ts";
import { runStep, stepDraft } from "./step_runner.ts";
import { StepIndex } from "./step_index.ts";
import { planPass } from "./decision_drafts.ts";
import {
  cancelledDrafts,
  everyStepEnded,
  runCancelledDraft,
  runChange,
  timeoutRequestedDraft,
  tooLateDraft,
  workflowTimeoutReason,
} from "./cancellation.ts";
import { durationMs } from "../text/duration.ts";
import type { SecretMask } from "../text/secret_mask.ts";
import { RunMasks } from "./run_masks.ts";
import { secretEvaluator } from "./secret_evaluator.ts";

interface Running {
  controller: AbortController;
  job: string;
  template?: string;
  /** Dispatched to a worker: it goes on there when the run is handed over (0030). */
  remote?: boolean;
}

/**
 * Executes one run as a DAG until it ends or is cancelled: decides what can
 * happen next from the record, writes each transition through the journal,
 * and starts steps within the concurrency caps. Owns nothing durable itself:
 * everything it knows is in the run's event log.
 */
export class RunEngine implements RunView {
  private readonly defs: DefinitionIndex;
  /** Read once: a run sees the declared variables as they were when its supervisor started. */
  private readonly env: Record<string, string>;
  private readonly running = new Map<string, Running>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly locks: LockKeeper;
  /** Expansions not yet started, per forEach step, with the position of the next one. */
  private readonly queued = new Map<string, { ids: string[]; next: number }>();
  private readonly index = new StepIndex();
  private wake: () => void = () => {};
  private poked = false;
  /** Asked to hand the run over (0030): start nothing, wait for the local steps, then stop. */
  private releasing = false;
  /** A step waits for a person: start nothing new but gates, then suspend. */
  private gated = false;
  /** What stopped a step's task from recording its end (a lost ownership, a failing store). */
  private failure: unknown;
  /** Set once the workflow `timeout` has passed: the reason the run fails with. */
  private timedOut = "";
  private readonly masks: RunMasks;
  /**
   * The run's resolved secrets: `vault.get` adds each value it resolves, and
   * so does the capability service through `deps.masks`. Every event and
   * log line the run writes is masked with it.
   */
  readonly mask: SecretMask;

  constructor(
    private readonly deps: EngineDeps,
    private readonly journal: RunJournal,
    private readonly workflow: Workflow,
    private readonly inputs: Record<string, unknown>,
  ) {
    this.masks = deps.masks ?? new RunMasks();
    this.mask = this.masks.hold(journal.run.id);
    journal.mask = this.mask;
    if (deps.evaluator) {
      this.deps = {
        ...deps,
        evaluator: secretEvaluator(deps.evaluator, deps.secrets, this.mask),
      };
    }
    this.defs = new DefinitionIndex(workflow);
    this.env = declaredEnv(workflow.reads?.env);
    this.locks = new LockKeeper(this.deps, journal);
  }

  get run(): Run {
    return this.journal.run;
  }

  /** Something outside changed the run (a cancel request was delivered): look now. */
  poke(): void {
    this.poked = true;
    this.wake();
  }

  /**
   * Hands the run over (decision 0030): nothing new starts; once no step
   * runs on this host any more, the engine stops without ending the run or
   * the steps on workers, for another instance to take over. A cancel or the
   * run's end that comes first still wins.
   */
  release(): void {
    this.releasing = true;
    this.wake();
  }

  topLevel(job: string): Step[] {
    return this.index.byJob.get(job) ?? [];
  }

  step(id: string): Step | undefined {
    return findStep(this.run, id);
  }

  templateOutcome(templateId: string): [StepStatus, string] | undefined {
    const items = this.index.expansions.get(templateId);
    if (!items || this.queued.has(templateId)) return undefined;
    // Cheap answer while items still run; the full look happens once, at the end.
    for (const r of this.running.values()) if (r.template === templateId) return undefined;
    if (!items.every((s) => isTerminalStep(s.status))) return undefined;
    return aggregate(items);
  }

  /**
   * Runs until the run is settled, or handed over after `release`; `signal`
   * cancels it. Returns the record as it left it.
   */
  async execute(signal: AbortSignal): Promise<Run> {
    signal.addEventListener("abort", () => this.wake(), { once: true });
    const stopListening = await pokeOnOutsideChanges(
      this.deps.store,
      this.run.id,
      () => this.run.revision,
      () => this.poke(),
    );
    try {
      return await this.executeLooking(signal);
    } finally {
      stopListening();
    }
  }

  private async executeLooking(signal: AbortSignal): Promise<Run> {
    if (this.run.status === RunStatus.PENDING) {
      await this.journal.append(runChange(RunStatus.PENDING, RunStatus.RUNNING, ""));
    }
    try {
      for (const name of this.workflow.locks ?? []) {
        if (!await this.locks.acquire(`lock:${name}`, "", signal, () => this.cancelRequested())) {
          break;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    this.requeueExpansions();
    // Counted from this start or resume: time suspended at a gate is not running time.
    const timeoutMs = durationMs(this.workflow.timeout);
    const deadline = timeoutMs === undefined
      ? undefined
      : this.deps.clock.now().getTime() + timeoutMs;
    let released = false;
    try {
      let lastPoll = Date.now();
      let cancelHandled = false;
      for (;;) {
        // Outside writers (cancel, decisions on gates) are seen within pollMs, however busy the run.
        if (this.poked || Date.now() - lastPoll >= this.deps.pollMs) {
          this.poked = false;
          lastPoll = Date.now();
          await this.journal.refresh();
          // Taken over by another process: stop here, write nothing, leave the run to it.
          this.journal.assertOwner();
          if (this.gated) {
            await this.journal.write((run) => expiryDrafts(run, this.deps.clock.now()));
          }
        }
        if (this.failure !== undefined) throw this.failure;
        this.refreshIndexes();
        this.gated = hasWaitingStep(this.run);
        if (isSettledRun(this.run.status)) break;
        if (
          !cancelHandled && deadline !== undefined && this.deps.clock.now().getTime() >= deadline
        ) {
          this.timedOut = workflowTimeoutReason(this.workflow.timeout!);
          await this.journal.append(timeoutRequestedDraft(this.timedOut, this.deps.clock.now()));
        }
        if (!cancelHandled && (signal.aborted || this.cancelRequested())) {
          cancelHandled = true;
          if (await this.cancel()) break;
        }
        if (this.releasing && !cancelHandled && this.onlyOnWorkers()) {
          released = true;
          break;
        }
        const progressed = await this.step_();
        if (isSettledRun(this.run.status)) break;
        if (progressed) continue;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.deps.pollMs);
        });
      }
    } finally {
      // Whatever ends the loop, a failing store included, nothing of the run is left running,
      // but for the steps on workers of a run handed over: the next owner adopts them.
      if (!released) {
        for (const r of this.running.values()) r.controller.abort();
        await Promise.allSettled([...this.tasks]);
      }
      this.masks.release(this.run.id);
    }
    return this.run;
  }

  /** One scheduling pass; true if it changed anything. */
  private async step_(): Promise<boolean> {
    const { drafts, ready, finish } = planPass(
      decide(this, this.defs, new Set(this.running.keys())),
      this.run,
    );
    if (finish) {
      // The pass's last transitions, the locks given back and the run's end: one append.
      return await this.wrote(...drafts, ...await this.locks.release(), finish);
    }
    const changed = drafts.length > 0 && await this.wrote(...drafts);
    let started = 0;
    // A run being handed over starts nothing: what is ready is the next owner's to start.
    for (const id of this.releasing ? [] : ready) {
      if (this.gated && !this.isGate(id)) continue;
      if (await this.start(id)) started++;
    }
    if (!this.releasing) started += await this.startQueuedExpansions();
    if (changed || started > 0) return true;
    if (this.gated && this.running.size === 0) {
      // Never hold locks while suspended (DESIGN §6): another run may need them for days.
      await this.locks.releaseAll();
      return await this.wrote(suspendDraft(this.run));
    }
    return false;
  }

  /** True if anything was written: a dropped transition (0011) is no progress, or the loop would spin. */
  private async wrote(...drafts: EventDraft[]): Promise<boolean> {
    return (await this.journal.append(...drafts)).length > 0;
  }

  private isGate(id: string): boolean {
    const step = this.step(id);
    return step !== undefined &&
      this.defs.step(step.job, this.templateName(step))?.task.type === "manual_approval";
  }

  /**
   * A resumed run may have forEach steps part-way through: their expansions
   * that never started go back in the queue, in order.
   */
  private requeueExpansions(): void {
    this.refreshIndexes();
    for (const [template, items] of this.index.expansions) {
      if (this.step(template)?.status !== StepStatus.RUNNING) continue;
      const ids = items.filter((s) => s.status === StepStatus.PENDING).map((s) => s.id);
      if (ids.length > 0) this.queued.set(template, { ids, next: 0 });
    }
  }

  /** Starts forEach expansions in order while their caps allow. */
  private async startQueuedExpansions(): Promise<number> {
    let started = 0;
    for (const [template, queue] of this.queued) {
      while (queue.next < queue.ids.length) {
        const id = queue.ids[queue.next];
        const step = this.step(id);
        if (!step || step.status !== StepStatus.PENDING) {
          queue.next++;
          continue;
        }
        if (this.gated && !this.isGate(id)) break;
        if (!this.hasCapacity(step) || !(await this.start(id))) break;
        queue.next++;
        started++;
      }
      if (queue.next >= queue.ids.length) this.queued.delete(template);
    }
    return started;
  }

  private hasCapacity(step: Step): boolean {
    const cap = (limit: number | undefined, count: number) => !limit || count < limit;
    const jobDef = this.defs.job(step.job);
    const template = templateIdOf(step);
    const stepDef = this.defs.step(step.job, this.templateName(step));
    let inJob = 0;
    let inTemplate = 0;
    for (const r of this.running.values()) {
      if (r.job === step.job) inJob++;
      if (r.template === template) inTemplate++;
    }
    return this.running.size < this.deps.maxParallel &&
      cap(this.workflow.concurrency, this.running.size) &&
      cap(jobDef?.concurrency, inJob) &&
      (!isExpansion(step) || cap(stepDef?.concurrency, inTemplate));
  }

  /**
   * Starts a ready step (or expands a forEach step); false if it must wait.
   * A step whose guard or forEach cannot be evaluated fails with the reason;
   * it never takes the supervisor down.
   */
  private async start(id: string): Promise<boolean> {
    try {
      return await this.startOrExpand(id);
    } catch (error) {
      if (this.running.has(id) || isOwnershipLost(error, this.run.id)) throw error;
      const step = this.step(id);
      if (!step || isTerminalStep(step.status)) throw error;
      return await this.wrote(
        stepDraft(id, step.status, StepStatus.FAILED, (error as Error).message),
      );
    }
  }

  private async startOrExpand(id: string): Promise<boolean> {
    const step = this.step(id);
    if (!step || step.status !== StepStatus.PENDING || this.running.has(id)) return false;
    const def = this.defs.step(step.job, this.templateName(step));
    if (!def) return false;
    const item = this.itemOf(step, def.forEach?.item);
    if (def.forEach && !isExpansion(step)) return await this.expand(step, def.forEach);
    if (!this.hasCapacity(step)) return false;
    if (def.guard !== undefined) {
      const variables = stepVariables({
        run: this.run,
        step,
        siblings: this.topLevel(step.job),
        item,
        inputs: this.inputs,
        env: this.env,
      });
      const guard = await renderTemplate(
        def.guard,
        variables,
        this.deps.evaluator,
        `guard of ${id}`,
      );
      if (guard === true || (typeof guard === "string" && guard !== "" && guard !== "false")) {
        return await this.wrote(stepDraft(id, StepStatus.PENDING, StepStatus.SKIPPED, guarded));
      }
    }
    if (def.task.type === "manual_approval") {
      const context = {
        run: this.run,
        step,
        siblings: this.topLevel(step.job),
        item,
        inputs: this.inputs,
        env: this.env,
      };
      if (!await this.wrote(...await reachGate(this.deps, def.task, context))) return false;
      this.gated = true;
      return true;
    }
    const controller = new AbortController();
    const entry: Running = {
      controller,
      job: step.job,
      template: isExpansion(step) ? templateIdOf(step) : undefined,
    };
    this.running.set(id, entry);
    // The step is marked running by its runner, together with what it started
    // (one write per start); until then `running` keeps it from starting twice.
    const task = runStep(this.deps, this.journal, this.locks, {
      run: this.run,
      step,
      siblings: this.topLevel(step.job),
      def,
      inputs: this.inputs,
      env: this.env,
      item,
      signal: controller.signal,
      executor: def.executor ?? this.defs.job(step.job)?.executor ?? this.workflow.executor,
      placement: placementTemplates(this.workflow, this.defs.job(step.job), def),
      onRemote: () => entry.remote = true,
    }).catch((error) => void (this.failure ??= error)).finally(() => {
      this.running.delete(id);
      this.tasks.delete(task);
      this.wake();
    });
    this.tasks.add(task);
    return true;
  }

  /** Adds one step per forEach item; the forEach step then runs until they all end. */
  private async expand(step: Step, forEach: { item: string; in?: unknown }): Promise<boolean> {
    const recorded = this.index.expansions.get(step.id) ?? [];
    if (recorded.length > 0) {
      // Re-entered by a resume: the items are those the run fanned out over before.
      await this.journal.append(
        stepDraft(step.id, StepStatus.PENDING, StepStatus.RUNNING, `${recorded.length} items`),
      );
      this.requeueExpansions();
      return true;
    }
    const plan = await expansionPlan(this.deps, {
      run: this.run,
      step,
      siblings: this.topLevel(step.job),
      inputs: this.inputs,
      env: this.env,
      forEach,
      nameTemplate: this.defs.step(step.job, step.name)!.name,
    });
    if (!await this.wrote(...plan.drafts)) return false;
    if (plan.ids.length === 0) return true;
    const ids = plan.ids;
    this.refreshIndexes();
    this.queued.set(step.id, { ids, next: 0 });
    return true;
  }

  private itemOf(
    step: Step,
    name: string | undefined,
  ): { name: string; value: unknown } | undefined {
    if (!isExpansion(step) || !name) return undefined;
    return { name, value: step.item ? toJson(ValueSchema, step.item) : null };
  }

  private templateName(step: Step): string {
    return isExpansion(step) ? this.findTemplate(step)?.name ?? step.name : step.name;
  }

  private findTemplate(step: Step): Step | undefined {
    return this.step(templateIdOf(step));
  }

  /** Whether every step this engine runs now runs on a worker (or none runs). */
  private onlyOnWorkers(): boolean {
    for (const r of this.running.values()) if (!r.remote) return false;
    return true;
  }

  private cancelRequested(): boolean {
    return this.run.status === RunStatus.CANCELLING ||
      this.run.cancelTimeline.some((stage) => stage.stage === "requested");
  }

  /**
   * Stops everything, waits until it is confirmed gone, and ends the run
   * cancelled. A cancel that arrives after the last step has ended is too
   * late: the run ends with the outcome its steps had.
   */
  private async cancel(): Promise<boolean> {
    if (this.run.status !== RunStatus.CANCELLING) {
      await this.journal.append(
        runChange(this.run.status, RunStatus.CANCELLING, this.timedOut || "cancel requested"),
      );
    }
    const untouched = everyStepEnded(this.run);
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.tasks]);
    if (untouched || (this.queued.size === 0 && everyStepEnded(this.run))) {
      await this.journal.append(tooLateDraft(this.deps.clock.now()));
      return false;
    }
    this.queued.clear();
    const drafts = cancelledDrafts(this.run);
    if (drafts.length > 0) await this.journal.append(...drafts);
    await this.locks.releaseAll();
    await this.journal.append(
      this.timedOut
        ? runChange(RunStatus.CANCELLING, RunStatus.FAILED, this.timedOut)
        : runCancelledDraft(this.run),
    );
    return true;
  }

  private refreshIndexes(): void {
    this.index.refresh(this.run, this.journal.generation);
  }
}
