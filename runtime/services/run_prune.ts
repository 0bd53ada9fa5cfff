import { create } from "@bufbuild/protobuf";
import type { RunSummary } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  PruneRunsResponseSchema,
  type RunService,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { finishedStatuses, type PruneRule, qualifiesForPrune } from "../ports/prune.ts";
import type { RunStore } from "../ports/store.ts";
import { isTerminalRun, runStatusText } from "../run/status.ts";
import { removeSpools } from "../run/spool.ts";
import type { ServiceImpl } from "./call_context.ts";
import type { RunServiceEnv } from "./run_env.ts";

type Client = ServiceImpl<typeof RunService>;

/** Listing pages read while looking for runs to prune. */
const pageSize = 1000;

/**
 * PruneRuns: list the runs of the asked statuses and workflow, keep those
 * that ended before the cutoff, and delete them one by one. The listing only
 * proposes: the store decides again under its own lock for each run
 * (RunStore.pruneRun), so a run a resume made live after the listing is
 * skipped, never deleted.
 */
export function runPrune(env: RunServiceEnv, store: () => Promise<RunStore>): Pick<
  Client,
  "pruneRuns"
> {
  return {
    async pruneRuns(request, ctx) {
      const seconds = request.olderThanSeconds ?? 0n;
      if (seconds <= 0n) {
        throw new SwampError(ErrorCode.USAGE, "say how long ago a run must have ended to go", {
          hint: "for example: swamp run prune --older-than 30d",
        });
      }
      const statuses = request.statuses?.length ? request.statuses : finishedStatuses;
      const live = statuses.filter((status) => !isTerminalRun(status));
      if (live.length > 0) {
        throw new SwampError(
          ErrorCode.USAGE,
          `prune deletes only finished runs; ${live.map(runStatusText).join(", ")} is not finished`,
          { hint: "use --status with succeeded, failed, cancelled or abandoned" },
        );
      }
      const rule: PruneRule = {
        endedBeforeMs: env.clock.now().getTime() - Number(seconds) * 1000,
        statuses,
      };
      const s = await store();
      const limit = request.limit ?? 0;
      const candidates: RunSummary[] = [];
      let cursor = request.cursor || undefined;
      let examined = 0;
      for (;;) {
        const page = await s.listRuns({
          workflow: request.workflow || undefined,
          statuses: [...statuses],
          limit: limit > 0 ? limit : pageSize,
          cursor,
        });
        examined += page.runs.length;
        candidates.push(...page.runs.filter((run) => qualifiesForPrune(run, rule)));
        cursor = page.nextCursor || undefined;
        if (!cursor || limit > 0) break;
      }
      const nextCursor = limit > 0 ? cursor ?? "" : "";
      if (request.dryRun) {
        return create(PruneRunsResponseSchema, { runs: candidates, examined, nextCursor });
      }
      const runs: RunSummary[] = [];
      let bytesFreed = 0n;
      let skipped = 0;
      for (const candidate of candidates) {
        // A caller that went away stops the prune between runs; each run is whole or gone.
        if (ctx.signal.aborted) break;
        const pruned = await s.pruneRun(candidate.id, rule);
        if (pruned) {
          await removeSpools(s, candidate.id);
          runs.push(candidate);
          bytesFreed += BigInt(pruned.bytes);
        } else {
          skipped++;
        }
      }
      return create(PruneRunsResponseSchema, { runs, bytesFreed, skipped, examined, nextCursor });
    },
  };
}
