import { create } from "@bufbuild/protobuf";
import type { Run, RunSummary, Step } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  type Reconciliation,
  ReconciliationSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { RunStore } from "../ports/store.ts";
import { foldEvents } from "../run/fold.ts";
import { expiredGates, pendingGates } from "../run/gates.ts";
import { reconcileRun } from "../run/reconcile.ts";
import { RunStatus } from "../run/status.ts";
import { applyExpiredGates } from "./gate_writes.ts";
import type { RunServiceEnv } from "./run_env.ts";

/** How many unfinished runs are judged at once: their reads overlap, their writes do not. */
const judgedTogether = 16;

/**
 * checkActiveRun for each of `summaries`: judged side by side first, reading
 * only (a dry run), then the few that need it (a dead owner, a gate past its
 * time) reconciled one by one. A listing judges every unfinished run, and a
 * store's reads overlap where one after the other each waits its turn.
 * Whether any run was changed.
 */
export async function checkActiveRuns(
  env: RunServiceEnv,
  store: RunStore,
  summaries: RunSummary[],
): Promise<boolean> {
  const needed = new Array<boolean>(summaries.length).fill(false);
  let next = 0;
  const judge = async () => {
    for (let i = next++; i < summaries.length; i = next++) {
      needed[i] = await checkActiveRun(env, store, summaries[i], true) !== undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.min(judgedTogether, summaries.length) }, judge));
  let changed = false;
  for (const [i, summary] of summaries.entries()) {
    if (needed[i] && await checkActiveRun(env, store, summary)) changed = true;
  }
  return changed;
}

/**
 * What any read of the runs (list, a new run of a workflow, reconcile) does
 * to one unfinished run, loading it once: a suspended run has no owner to
 * judge, but its gates' timeouts may have passed; any other run is judged by
 * its owner's liveness.
 */
export async function checkActiveRun(
  env: RunServiceEnv,
  store: RunStore,
  summary: RunSummary,
  dryRun = false,
): Promise<Reconciliation | undefined> {
  if (summary.status === RunStatus.SUSPENDED) {
    return await reconcileGates(env, store, summary.id, dryRun);
  }
  return await reconcileRun(
    { store, clock: env.clock, executors: await env.executors() },
    summary.id,
    { dryRun },
  );
}

/** Applies expired gates' on-timeout actions; what it did, or undefined if no gate had expired. */
async function reconcileGates(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  dryRun: boolean,
): Promise<Reconciliation | undefined> {
  const stored = await store.loadRun(runId);
  if (!stored) return undefined;
  const before = foldEvents(stored.snapshot, stored.tail);
  const expired = expiredGates(before, env.clock.now());
  if (expired.length === 0) return undefined;
  const actions = expired.map((gate) =>
    `${dryRun ? "would apply" : "applied"} gate ${gate.id}'s on-timeout action: ${
      gate.approval!.onTimeout || "reject"
    }`
  );
  if (dryRun) {
    return create(ReconciliationSchema, {
      runId,
      from: before.status,
      to: statusAfterTimeouts(before, expired),
      reason: "approval-timed-out",
      actions,
    });
  }
  await applyExpiredGates(env, store, before);
  const after = await store.loadRun(runId);
  return create(ReconciliationSchema, {
    runId,
    from: before.status,
    to: after ? foldEvents(after.snapshot, after.tail).status : before.status,
    reason: "approval-timed-out",
    actions,
  });
}

/**
 * What applying the expired gates would make of a suspended run: failed by
 * any reject, pending again (to be resumed) when every waiting gate is
 * approved, suspended still otherwise.
 */
function statusAfterTimeouts(run: Run, expired: Step[]): RunStatus {
  if (run.status !== RunStatus.SUSPENDED) return run.status;
  if (expired.some((gate) => gate.approval!.onTimeout !== "approve")) return RunStatus.FAILED;
  return pendingGates(run).length === expired.length ? RunStatus.PENDING : run.status;
}
