import { create } from "@bufbuild/protobuf";
import {
  JobStatusChangedSchema,
  LockChangedSchema,
  LogLineSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Reconciliation,
  ReconciliationSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { Executor } from "../ports/executor.ts";
import type { RunStore } from "../ports/store.ts";
import type { EventDraft } from "./journal.ts";
import { RunJournal } from "./journal.ts";
import { hasOwner } from "./claim.ts";
import { importSpools } from "./spool.ts";
import { judgeOwner, type OwnerVerdict } from "./liveness.ts";
import {
  isActiveJob,
  isSettledRun,
  isTerminalStep,
  JobStatus,
  RunStatus,
  StepStatus,
} from "./status.ts";
import { defaultExecutorName } from "../executors/mod.ts";

export interface ReconcileDeps {
  store: RunStore;
  clock: Clock;
  /** By name, to end the processes or containers a run's steps left behind. */
  executors: ReadonlyMap<string, Executor>;
}

/**
 * Checks a run's owner and, if it is gone, marks the run abandoned: one
 * event with the reason, its unfinished steps abandoned, the processes they
 * recorded ended (never a process that merely reuses a pid), its locks
 * released, and a closing line in its log. Never re-runs anything. Returns
 * what it did, or undefined when the owner is alive.
 */
export async function reconcileRun(
  deps: ReconcileDeps,
  runId: string,
  options: {
    dryRun?: boolean;
    actor?: string;
    /**
     * The run ends cancelled with this reason instead of abandoned: a cancel
     * whose owner never answered, ended by killing the owner.
     */
    cancelled?: string;
    /**
     * The process started to own the run is gone before it claimed it (the
     * reason says how): the run is abandoned now, not after the grace for an
     * owner to start, unless an owner has claimed it by the time this is
     * written.
     */
    neverClaimed?: string;
    /**
     * The caller is the server instance `server` that owns the run, and its
     * engine for the run stopped with `reason`: nobody else would end the run
     * while the instance lives. Nothing is written if another owner has
     * claimed the run meanwhile.
     */
    ownerStopped?: { server: string; reason: string };
  } = {},
): Promise<Reconciliation | undefined> {
  const journal = await RunJournal.open(deps.store, runId, deps.clock, options.actor ?? "system");
  const unclaimed = (run: Run) => !hasOwner(run.owner);
  const stoppedHere = (run: Run) => run.owner?.server === options.ownerStopped?.server;
  const verdict: OwnerVerdict = options.ownerStopped
    ? stoppedHere(journal.run) && !isSettledRun(journal.run.status)
      ? { alive: false, reason: options.ownerStopped.reason }
      : { alive: true }
    : options.neverClaimed === undefined
    ? await judgeOwner(journal.run, deps.clock, deps.store.instances)
    : unclaimed(journal.run) && !isSettledRun(journal.run.status)
    ? { alive: false, reason: options.neverClaimed }
    : { alive: true };
  if (verdict.alive) return undefined;
  const from = journal.run.status;
  const ending = options.cancelled === undefined
    ? { run: RunStatus.ABANDONED, step: StepStatus.ABANDONED, job: JobStatus.ABANDONED }
    : { run: RunStatus.CANCELLED, step: StepStatus.CANCELLED, job: JobStatus.CANCELLED };
  const why = options.cancelled ?? verdict.reason;
  const report = create(ReconciliationSchema, {
    runId,
    from,
    to: ending.run,
    reason: why,
  });
  const orphans = journal.run.steps.filter((s) =>
    s.status === StepStatus.RUNNING && (s.process?.pid || s.process?.containerId)
  );
  if (options.dryRun) {
    report.actions = [
      `would mark the run abandoned (${verdict.reason})`,
      ...orphans.map((s) =>
        s.process!.containerId
          ? `would remove container ${s.process!.containerId.slice(0, 12)} of step ${s.id}`
          : `would end what step ${s.id} left running (pid ${s.process!.pid})`
      ),
      ...journal.run.locks.map((lock) => `would release lock ${lock}`),
    ];
    return report;
  }
  const written = await journal.write((run) => {
    if (isSettledRun(run.status)) return undefined;
    // Decided on the record it is written on: a claim that got in first wins (0011).
    if (options.neverClaimed !== undefined && !unclaimed(run)) return undefined;
    if (options.ownerStopped && !stoppedHere(run)) return undefined;
    const drafts: EventDraft[] = [{
      reason: why,
      payload: {
        case: "runStatusChanged",
        value: create(RunStatusChangedSchema, { from: run.status, to: ending.run }),
      },
    }];
    for (const step of run.steps) {
      if (isTerminalStep(step.status)) continue;
      drafts.push({
        reason: betweenAttempts(step)
          ? `${why} while the step waited to retry: ${step.reason}`
          : step.status === StepStatus.PENDING || step.status === StepStatus.QUEUED
          ? (options.cancelled === undefined ? "never started: owner gone" : "run cancelled")
          : why,
        payload: {
          case: "stepStatusChanged",
          value: create(StepStatusChangedSchema, {
            stepId: step.id,
            from: step.status,
            to: ending.step,
          }),
        },
      });
    }
    for (const job of run.jobs) {
      if (isActiveJob(job.status)) {
        drafts.push({
          reason: why,
          payload: {
            case: "jobStatusChanged",
            value: create(JobStatusChangedSchema, {
              job: job.name,
              from: job.status,
              to: ending.job,
            }),
          },
        });
      }
    }
    return drafts;
  });
  if (written.length === 0) return undefined;
  const actions = [
    options.cancelled === undefined
      ? `marked the run abandoned (${verdict.reason})`
      : `marked the run cancelled (${why})`,
  ];
  for (const step of orphans) {
    const process = step.process!;
    const executor = deps.executors.get(
      process.executor || defaultExecutorName(deps.executors) || "",
    );
    if (!executor) {
      actions.push(`cannot end step ${step.id}: no executor named ${process.executor}`);
      continue;
    }
    // A clean-up that fails is reported; it never stops the locks from being released.
    const done = await executor.reap({
      executor: process.executor,
      pid: process.pid,
      pgid: process.pgid,
      processStart: process.processStart,
      containerId: process.containerId || undefined,
    }).catch((error) => [`could not end what it left: ${(error as Error).message}`]);
    actions.push(...done.map((line) => `step ${step.id}: ${line}`));
  }
  // What an executor started but the dead owner never recorded is found by its marks.
  for (const name of executorsNamed(journal.run)) {
    const executor = deps.executors.get(name);
    if (!executor?.reapRun) continue;
    const done = await executor.reapRun(runId).catch((error) => [
      `could not look for what the run left: ${(error as Error).message}`,
    ]);
    actions.push(...done.map((line) => `${name}: ${line}`));
  }
  // The steps are ended now, so their spool files are whole: what the dead
  // owner had not stored yet goes into the log (decision 0024).
  const imported = await importSpools(deps.store, deps.clock, journal.run).catch((error) => {
    actions.push(`could not import step output spools: ${(error as Error).message}`);
    return 0;
  });
  if (imported > 0) actions.push(`stored ${imported} output lines the owner had not`);
  const released = await deps.store.releaseLocks(runId);
  if (released.length > 0) {
    await journal.append(...released.map((lock) => ({
      payload: {
        case: "lockChanged" as const,
        value: create(LockChangedSchema, { lock, held: false }),
      },
    })));
    actions.push(...released.map((lock) => `released lock ${lock}`));
  }
  await deps.store.appendLogs(runId, [create(LogLineSchema, {
    time: timestampFromDate(deps.clock.now()),
    stream: "system",
    text: `reconcile: ${actions.join("; ")}`,
  })]);
  report.actions = actions;
  return report;
}

/** The executor types the run's pinned definition names (`executor: {type: …}` anywhere in it). */
function executorsNamed(run: Run): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === "executor" && inner !== null && typeof inner === "object") {
          const type = (inner as { type?: unknown }).type;
          if (typeof type === "string") names.add(type);
        } else visit(inner);
      }
    }
  };
  visit(run.definition);
  return names;
}

/**
 * A step with `retry:` back to pending after a failed attempt: it did start,
 * so "never started" would be a lie; its reason says which attempt failed.
 */
function betweenAttempts(step: Run["steps"][number]): boolean {
  return step.status === StepStatus.PENDING && (step.retry?.attempt ?? 0) > 1;
}
