import { create } from "@bufbuild/protobuf";
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  GetRunResponseSchema,
  ListRunsResponseSchema,
  ReadLogsResponseSchema,
  type RunService,
  WatchRunEventsResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { RunStore, StoredRun } from "../ports/store.ts";
import { applyEvent, foldEvents } from "../run/fold.ts";
import { reconcileRun } from "../run/reconcile.ts";
import { judgeOwner } from "../run/liveness.ts";
import { isSettledRun, isTerminalRun } from "../run/status.ts";
import { fileSha256 } from "../repo/file_hash.ts";
import { sleep } from "../engine/locks.ts";
import type { ServiceImpl } from "./call_context.ts";
import { applyExpiredGates } from "./gate_writes.ts";
import { checkActiveRuns } from "./check_active.ts";
import { resolveRunId, type RunServiceEnv } from "./run_env.ts";
import { followPollMs, followRun } from "./store_feed.ts";
import type { ChangeFeed } from "./change_feed.ts";

type Client = ServiceImpl<typeof RunService>;

const livenessEveryMs = 2000;

/**
 * Runs folded from the stored record they came from. A store that hands back
 * the same record while a run is unchanged (the file store does) gets each
 * version folded once; these runs are shared and never mutated.
 */
const folded = new WeakMap<StoredRun, Run>();

function foldShared(stored: StoredRun): Run {
  let run = folded.get(stored);
  if (!run) folded.set(stored, run = foldEvents(stored.snapshot, stored.tail));
  return run;
}

/**
 * Reads a run's record, reconciling it first if its owner is gone (DESIGN §6).
 * `shared`: the caller only reads the result, which may then be shared with other callers.
 */
export async function readRun(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  shared = false,
): Promise<Run> {
  const load = async () => {
    const stored = await store.loadRun(runId);
    if (!stored) {
      throw new SwampError(ErrorCode.NOT_FOUND, `no run with id ${runId}`, {
        hint: "list runs with `swamp workflow list`",
      });
    }
    return shared ? foldShared(stored) : foldEvents(stored.snapshot, stored.tail);
  };
  let run = await load();
  // A gate's timeout holds whether or not any process is alive: any read applies it.
  if (await applyExpiredGates(env, store, run)) run = await load();
  if (isSettledRun(run.status) || (await judgeOwner(run, env.clock, store.instances)).alive) {
    return run;
  }
  const changed = await reconcileRun(
    { store, clock: env.clock, executors: await env.executors() },
    runId,
  );
  return changed ? await load() : run;
}

export function runReads(env: RunServiceEnv, store: () => Promise<RunStore>): Pick<
  Client,
  "getRun" | "listRuns" | "watchRunEvents" | "readLogs"
> {
  return {
    async getRun(request) {
      const s = await store();
      const run = await readRun(env, s, await resolveRunId(s, request.runId ?? ""), true);
      return create(GetRunResponseSchema, {
        run,
        definitionChanged: await definitionChanged(env, run),
      });
    },

    async listRuns(request) {
      const s = await store();
      const query = {
        workflow: request.workflow || undefined,
        statuses: request.statuses?.length ? request.statuses : undefined,
        limit: Math.min(Math.max(request.limit || 20, 1), 1000),
        cursor: request.cursor || undefined,
      };
      // Every unfinished run a listing shows is judged first, so a dead owner's run shows as
      // abandoned. Filtered by status, that is every unfinished run (judging one may move it in
      // or out of the filter); otherwise the page is the same runs whatever their status, and
      // only its own unfinished runs are judged, however many others there are.
      if (query.statuses) await checkActiveRuns(env, s, await s.listActiveRuns());
      let page = await s.listRuns(query);
      const unfinished = query.statuses ? [] : page.runs.filter((r) => !isTerminalRun(r.status));
      if (unfinished.length > 0 && await checkActiveRuns(env, s, unfinished)) {
        page = await s.listRuns(query);
      }
      return create(ListRunsResponseSchema, { runs: page.runs, nextCursor: page.nextCursor });
    },

    async *watchRunEvents(request, ctx) {
      const s = await store();
      const runId = await resolveRunId(s, request.runId ?? "");
      const run = await readRun(env, s, runId);
      // Watched from before the loop's first read, so no change falls between.
      const follow = followRun(request.follow === true, env.changes, s, runId);
      const changes = follow.changes;
      let after = request.afterSeq ?? 0n;
      let lastCheck = Date.now();
      try {
        for (;;) {
          const seen = changes?.version(runId, "events");
          const events = await eventsAfter(env, s, runId, after);
          for (const event of events) {
            after = event.seq;
            if (event.seq > run.revision) applyEvent(run, event);
            yield create(WatchRunEventsResponseSchema, { event });
          }
          if (events.length === 500) continue;
          // The record read at the start may be ahead of what the change feed has been told so
          // far (a server's run thread reports its writes a moment after storing them): every
          // event it folds is sent before the stream can end.
          if (after < run.revision && !ctx.signal.aborted) continue;
          if (!request.follow || isSettledRun(run.status) || ctx.signal.aborted) return;
          await waitForChange(env, changes, runId, ctx.signal, [seen]);
          if (Date.now() - lastCheck > livenessEveryMs) {
            lastCheck = Date.now();
            // Judged on the record this stream already follows: a live owner costs no read.
            if (!(await judgeOwner(run, env.clock, s.instances)).alive) {
              await reconcileRun(
                { store: s, clock: env.clock, executors: await env.executors() },
                runId,
              );
            }
          }
        }
      } finally {
        follow.close();
      }
    },

    async *readLogs(request, ctx) {
      const s = await store();
      const runId = await resolveRunId(s, request.runId ?? "");
      const run = await readRun(env, s, runId);
      const stepFilter = request.step ? stepIdIn(run, runId, request.step) : undefined;
      const follow = followRun(request.follow === true, env.changes, s, runId);
      const changes = follow.changes;
      let after = request.afterSeq ?? 0n;
      let settledSeen = isSettledRun(run.status);
      let lastCheck = Date.now();
      try {
        for (;;) {
          const seen = [changes?.version(runId, "events"), changes?.version(runId, "logs")];
          // Once the run is settled the store is read, never memory, which may lag behind it.
          const kept = settledSeen
            ? undefined
            : env.changes?.logsAfter(runId, after, 500, stepFilter);
          const lines = kept?.length ? kept : await s.readLogs(runId, after, 500, stepFilter);
          for (const line of lines) {
            after = line.seq;
            // Where a line sat in its step's spool file is the store's bookkeeping for a crash
            // (decision 0024), not part of the line a reader gets.
            const shown = line.spool ? { ...line, spool: "", spoolOffset: 0n } : line;
            yield create(ReadLogsResponseSchema, { line: shown });
          }
          if (lines.length === 500) continue;
          if (!request.follow || settledSeen || ctx.signal.aborted) return;
          // Status comes from the new events only, so following stays cheap
          // however large the run; one more read of the log after the run
          // settles catches lines written just before the end.
          for (const event of await eventsAfter(env, s, runId, run.revision, Infinity)) {
            applyEvent(run, event);
          }
          settledSeen = isSettledRun(run.status);
          if (!settledSeen && Date.now() - lastCheck > livenessEveryMs) {
            lastCheck = Date.now();
            if (!(await judgeOwner(run, env.clock, s.instances)).alive) {
              await reconcileRun(
                { store: s, clock: env.clock, executors: await env.executors() },
                runId,
              );
            }
          }
          if (!settledSeen) await waitForChange(env, changes, runId, ctx.signal, seen);
        }
      } finally {
        follow.close();
      }
    },
  };
}

/**
 * Events after `afterSeq`: from the change feed's memory when it holds the
 * very next ones (a server's own writes, shared by all its followers), else
 * from the store, which also has what other processes wrote.
 */
async function eventsAfter(
  env: RunServiceEnv,
  store: RunStore,
  runId: string,
  afterSeq: bigint,
  limit = 500,
): Promise<RunEvent[]> {
  const kept = env.changes?.eventsAfter(runId, afterSeq, limit);
  if (kept?.length) return kept;
  return await store.readEvents(runId, afterSeq, Number.isFinite(limit) ? limit : undefined);
}

/**
 * Until the feed says the run changed (its events; with two versions, its
 * events or its log), or the poll interval for changes it cannot see.
 * `seen` are the feed's versions taken before the last read.
 */
function waitForChange(
  env: RunServiceEnv,
  changes: ChangeFeed | undefined,
  runId: string,
  signal: AbortSignal,
  seen: (number | undefined)[],
): Promise<void> {
  const pollMs = followPollMs(changes, env.followPollMs);
  if (!changes) return sleep(pollMs);
  if (seen.length === 1) return changes.wait(runId, pollMs, signal, "events", seen[0]);
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  return Promise.race([
    changes.wait(runId, pollMs, both, "events", seen[0]),
    changes.wait(runId, pollMs, both, "logs", seen[1]),
  ]).finally(() => stop.abort());
}

function stepIdIn(run: Run, runId: string, step: string): string {
  const match = run.steps.find((s) => s.id === step) ?? run.steps.find((s) => s.name === step);
  if (!match) {
    throw new SwampError(ErrorCode.NOT_FOUND, `run ${runId} has no step ${step}`, {
      hint: `steps: ${run.steps.slice(0, 10).map((s) => s.id).join(", ")}`,
    });
  }
  return match.id;
}

async function definitionChanged(env: RunServiceEnv, run: Run): Promise<boolean> {
  if (!run.workflowFile || !run.workflowHash) return false;
  try {
    const root = await env.locator.root();
    return (await fileSha256(`${root}/${run.workflowFile}`)) !== run.workflowHash;
  } catch {
    return true;
  }
}
