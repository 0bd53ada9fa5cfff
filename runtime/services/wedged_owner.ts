// A cancel must end a run even when the process that owns it has stopped
// answering (its event loop blocked, the process stopped): issue 18. Such an
// owner writes no heartbeat; when a cancel's wait passes without one, the
// owner is ended by its recorded pid (its start time checked, so never a
// process that reuses the pid) and the run is reconciled as cancelled, which
// also ends what its steps left running.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import { hostName, isSameProcessAlive } from "../host/mod.ts";
import type { RunStore } from "../ports/store.ts";
import { reconcileRun } from "../run/reconcile.ts";
import { sleep } from "../engine/locks.ts";
import type { RunServiceEnv } from "./run_env.ts";

/** The owner's last heartbeat, in ms since the epoch (0 when it has none). */
export function heartbeatOf(run: Run): number {
  const beat = run.owner?.heartbeatTime;
  return beat ? timestampDate(beat).getTime() : 0;
}

/**
 * Ends the run's owner when it is a supervisor process on this host that is
 * still there but silent, and reconciles the run as cancelled. Returns the
 * reconciliation's reason, or undefined when the owner is not such a process
 * (a `swamp serve` instance is never ended from here: it runs other runs).
 */
export async function endSilentOwner(
  env: RunServiceEnv,
  store: RunStore,
  run: Run,
  waitedMs: number,
  actor: string,
): Promise<string | undefined> {
  const owner = run.owner;
  if (!owner || owner.pid === 0 || owner.server !== "" || owner.host !== hostName()) {
    return undefined;
  }
  if (await isSameProcessAlive(owner.pid, owner.processStart) !== true) return undefined;
  try {
    Deno.kill(owner.pid, "SIGKILL");
  } catch {
    // It ended by itself in between: reconciling is all that is left.
  }
  for (let i = 0; i < 100 && await isSameProcessAlive(owner.pid, owner.processStart); i++) {
    await sleep(50);
  }
  const reason = `the supervisor (pid ${owner.pid}) did not answer the cancel within ` +
    `${Math.round(waitedMs / 1000)} s (no heartbeat) and was ended`;
  const done = await reconcileRun(
    { store, clock: env.clock, executors: await env.executors() },
    run.id,
    { actor, cancelled: reason },
  );
  return done ? reason : undefined;
}
