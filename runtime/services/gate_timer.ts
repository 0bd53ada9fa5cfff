import type { RunStore } from "../ports/store.ts";
import { gateExpiry, pendingGates } from "../run/gates.ts";
import { RunStatus } from "../run/status.ts";
import type { RunServiceEnv } from "./run_env.ts";
import { readRun } from "./run_reads.ts";

export interface GateTimer {
  /** Looks at every run that may wait at a gate now, instead of at the next tick. */
  sweep(): Promise<void>;
  stop(): void;
}

/**
 * A server's own enforcement of gate timeouts (DESIGN §13: a server enforces
 * time itself). Each waiting run's earliest expiry is remembered; a run is
 * read again only when that time has come, and reading applies the timeout.
 * Runs it has not seen yet are read once to learn their expiry.
 */
export function startGateTimer(
  env: RunServiceEnv,
  store: RunStore,
  options: { everyMs: number; onError?: (error: unknown) => void },
): GateTimer {
  const dueAt = new Map<string, { due: number; status: RunStatus }>();
  let running: Promise<void> | undefined;
  const sweepOnce = async () => {
    const now = env.clock.now().getTime();
    const waiting = new Set<string>();
    for (const summary of await store.listActiveRuns()) {
      const atGate = summary.status === RunStatus.SUSPENDED ||
        (summary.status === RunStatus.RUNNING && summary.waiting?.on.case === "approval");
      if (!atGate) continue;
      waiting.add(summary.id);
      const known = dueAt.get(summary.id);
      if (known && known.status === summary.status && known.due > now) continue;
      try {
        const run = await readRun(env, store, summary.id);
        const expiries = pendingGates(run).map(gateExpiry).filter((d) => d !== undefined);
        const due = expiries.length > 0
          ? Math.min(...expiries.map((d) => d.getTime()))
          : Number.POSITIVE_INFINITY;
        // Looked at again at least every 30 s, so a gate reached later with an earlier expiry is seen.
        dueAt.set(summary.id, { due: Math.min(due, now + 30_000), status: run.status });
      } catch (error) {
        options.onError?.(error);
      }
    }
    for (const id of dueAt.keys()) if (!waiting.has(id)) dueAt.delete(id);
  };
  const sweep = () => running ??= sweepOnce().finally(() => running = undefined);
  const timer = setInterval(() => {
    sweep().catch((error) => options.onError?.(error));
  }, options.everyMs);
  return {
    sweep,
    stop: () => clearInterval(timer),
  };
}
