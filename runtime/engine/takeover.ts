// What a server instance writes with its claim when it takes a run over from
// a dead instance on a shared store (decision 0027), decided on the record
// the claim is written on: remote steps whose lease is still active are
// adopted (back to pending; the engine then follows that lease instead of
// dispatching anew); a queued step goes back to pending; a local step of the
// dead instance is abandoned as DESIGN §6 says (never re-run), and the
// processes it recorded are ended where they are on this host; a gate keeps
// waiting.
import type { Run, Step, StepProcess } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Executor } from "../ports/executor.ts";
import type { Lease } from "../ports/leases.ts";
import { stepDraft } from "../run/gates.ts";
import type { EventDraft } from "../run/journal.ts";
import { isTerminalStep, StepStatus } from "../run/status.ts";
import { templateIdOf } from "./scheduler.ts";
import { defaultExecutorName } from "../executors/mod.ts";

export interface Takeover {
  /** The dead instance's id. */
  from: string;
  /** It drained and handed its runs over (decision 0030), rather than stopped beating. */
  released?: boolean;
}

/** The reason of the ownerChanged event a takeover writes. */
export function takeoverReason(takeover: Takeover): string {
  return takeover.released
    ? `handed over by instance ${takeover.from} (it drained)`
    : `taken over from instance ${takeover.from} (heartbeat lapsed)`;
}

/** A step its worker still runs under a lease of the dead owner's. */
export interface AdoptedStep {
  leaseId: string;
  /** The lease's attempt: the adopting engine goes on with it, never a new one. */
  attempt: number;
  /** A placed extension step's: the SHA-256 of the capability credential its worker holds (0029). */
  credentialSha256: string;
}

export interface TakeoverPlan {
  drafts: EventDraft[];
  /** Step id → the lease its worker still runs it under. */
  adopt: Map<string, AdoptedStep>;
  /** What the abandoned local steps recorded, to end after the claim is written. */
  orphans: StepProcess[];
}

/** The takeover's drafts for `run`, with `leases` the run's leases as the store has them. */
export function takeoverPlan(run: Run, leases: readonly Lease[], from: string): TakeoverPlan {
  const plan: TakeoverPlan = {
    drafts: [],
    adopt: new Map(),
    orphans: [],
  };
  const templates = new Set(
    run.steps.filter((s) => templateIdOf(s) !== s.id).map((s) => templateIdOf(s)),
  );
  for (const step of run.steps) {
    if (isTerminalStep(step.status) || templates.has(step.id)) continue;
    const lease = leases.find((l) => l.stepId === step.id && l.state === "active");
    if (lease && step.status !== StepStatus.WAITING_APPROVAL) {
      // A worker may run it even before the record says so (the lease is taken first).
      plan.adopt.set(step.id, {
        leaseId: lease.id,
        attempt: lease.attempt,
        credentialSha256: step.placement?.credentialSha256 ?? "",
      });
      if (step.status !== StepStatus.PENDING) {
        plan.drafts.push(
          back(step, `taken over from instance ${from}: adopting lease ${lease.id}`),
        );
      }
    } else if (step.status === StepStatus.QUEUED) {
      plan.drafts.push(back(step, `taken over from instance ${from}: no worker had taken it`));
    } else if (step.status === StepStatus.RUNNING) {
      if (step.process?.pid || step.process?.containerId) plan.orphans.push(step.process);
      plan.drafts.push(
        stepDraft(
          step.id,
          step.status,
          StepStatus.ABANDONED,
          `owner instance ${from} died while the step ran on its host`,
          "system",
        ),
      );
    }
  }
  return plan;
}

function back(step: Step, reason: string): EventDraft {
  return stepDraft(step.id, step.status, StepStatus.PENDING, reason, "system");
}

/** Ends what abandoned local steps recorded (only on the host they ran on); what it did. */
export async function endOrphans(
  orphans: readonly StepProcess[],
  executors: ReadonlyMap<string, Executor> | undefined,
): Promise<string[]> {
  const done: string[] = [];
  for (const process of orphans) {
    const executor = executors?.get(
      process.executor || (executors ? defaultExecutorName(executors) : "") || "",
    );
    if (!executor) continue;
    const lines = await executor.reap({
      executor: process.executor,
      pid: process.pid,
      pgid: process.pgid,
      processStart: process.processStart,
      containerId: process.containerId || undefined,
    }).catch((error) => [`could not end it: ${(error as Error).message}`]);
    done.push(...lines);
  }
  return done;
}
