import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { RunStore } from "../ports/store.ts";
import { hasOwner } from "../run/claim.ts";
import { RunJournal } from "../run/journal.ts";
import { ownerStartGraceMs } from "../run/liveness.ts";
import { reconcileRun } from "../run/reconcile.ts";
import { isSettledRun } from "../run/status.ts";
import { sleep } from "../engine/locks.ts";
import type { LaunchedSupervisor, RunServiceEnv } from "./run_env.ts";

/** How often the record is read for the claim while the supervisor starts. */
const claimPollMs = 20;

/**
 * Starts the supervisor of a pending run and waits until it has claimed the
 * run. One that cannot be started, or that exits before claiming, leaves a
 * run nobody will execute: it is recorded abandoned at once, with what
 * happened, rather than read as `pending` until the grace for an owner to
 * start runs out, and this throws `run_abandoned`. The abandonment is
 * decided on the record it is written on and declines once any owner has
 * claimed the run, and a claim declines on a settled run (0011), so a
 * supervisor that did claim is never overruled.
 */
export async function startSupervisor(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  options?: { resumeInputs?: Record<string, unknown> },
): Promise<void> {
  const status = `see the run with: swamp workflow status ${runId.slice(0, 8)}`;
  let launched: LaunchedSupervisor | void;
  try {
    launched = await env.launchSupervisor(await env.locator.root(), runId, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await abandon(env, store, runId, `its supervisor could not be started: ${message}`, status);
    return;
  }
  if (launched) await watchSupervisorStart(env, store, runId, launched);
}

/**
 * Watches a supervisor started for a pending run until it has claimed it;
 * one that exits first leaves the run recorded abandoned, and this throws
 * `run_abandoned` (see startSupervisor).
 */
export async function watchSupervisorStart(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  launched: LaunchedSupervisor,
): Promise<void> {
  const status = `see the run with: swamp workflow status ${runId.slice(0, 8)}`;
  let failed: string | undefined;
  try {
    failed = await exitBeforeClaim(env, store, runId, launched);
  } finally {
    launched.release();
  }
  if (failed === undefined) return;
  await abandon(
    env,
    store,
    runId,
    `its supervisor ${failed} before claiming the run`,
    `${status}; what stopped the supervisor is in .swamp/supervisor.log, or, if it stopped ` +
      `before it could write there, shown by running it by hand: ${launched.command}`,
  );
}

/**
 * How the supervisor exited if it did before the run was claimed (or
 * settled otherwise); undefined once it is. An exit with status 0 is no
 * failure: a supervisor exits so only after running a run it claimed, so
 * before the claim it is a wrapper's (a `setsid` that forked) that handed
 * the supervisor on, and the supervisor is left to claim on its own.
 */
async function exitBeforeClaim(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  launched: LaunchedSupervisor,
): Promise<string | undefined> {
  const journal = await RunJournal.open(store, runId, env.clock, "system");
  let exit: { failed?: string } | undefined;
  launched.exited.then((how) => exit = how, () => exit = {});
  const deadline = Date.now() + ownerStartGraceMs;
  while (!hasOwner(journal.run.owner) && !isSettledRun(journal.run.status)) {
    // Past the grace, any read of the run judges it as one whose owner never started.
    if (exit || Date.now() > deadline) return exit?.failed;
    await Promise.race([launched.exited, sleep(claimPollMs)]).catch(() => {});
    await journal.refresh();
  }
  return undefined;
}

/** Records the run abandoned and throws `run_abandoned`, unless an owner claimed it meanwhile. */
async function abandon(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  reason: string,
  hint: string,
): Promise<void> {
  const done = await reconcileRun(
    { store, clock: env.clock, executors: await env.executors() },
    runId,
    { neverClaimed: reason },
  );
  if (done) {
    throw new SwampError(ErrorCode.RUN_ABANDONED, `run ${runId} was abandoned: ${reason}`, {
      hint,
    });
  }
}
