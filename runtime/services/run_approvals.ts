import { create } from "@bufbuild/protobuf";
import {
  ApproveStepResponseSchema,
  ListApprovalsResponseSchema,
  PendingApprovalSchema,
  RejectStepResponseSchema,
  ResumeRunResponseSchema,
  type RunService,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { RunStore } from "../ports/store.ts";
import { pendingGates } from "../run/gates.ts";
import { RunStatus } from "../run/status.ts";
import { confirmLastAttemptGone } from "../run/old_attempt.ts";
import type { CallContext, ServiceImpl } from "./call_context.ts";
import { checkNoPendingGates, rootRun, startResume, writeDecision } from "./gate_writes.ts";
import { resolveRunId, type RunServiceEnv } from "./run_env.ts";
import { readRun } from "./run_reads.ts";

type Client = ServiceImpl<typeof RunService>;

export function runApprovals(env: RunServiceEnv, store: () => Promise<RunStore>): Pick<
  Client,
  "approveStep" | "rejectStep" | "resumeRun" | "listApprovals"
> {
  const decide = async (
    request: { runId?: string; step?: string; reason?: string },
    ctx: CallContext,
    approved: boolean,
  ) => {
    const s = await store();
    const runId = await resolveRunId(s, request.runId ?? "");
    // Reading applies a timeout that has passed, so an expired gate is refused with its outcome.
    await readRun(env, s, runId);
    return await writeDecision(env, s, runId, request.step ?? "", {
      approved,
      actor: ctx.principal.name,
      actorKind: ctx.principal.kind,
      reason: request.reason ?? "",
    });
  };
  return {
    async approveStep(request, ctx) {
      const { run, gate } = await decide(request, ctx, true);
      return create(ApproveStepResponseSchema, { run, stepId: gate.id });
    },

    async rejectStep(request, ctx) {
      const { run, gate } = await decide(request, ctx, false);
      return create(RejectStepResponseSchema, { run, stepId: gate.id });
    },

    async resumeRun(request, ctx) {
      const s = await store();
      const runId = await resolveRunId(s, request.runId ?? "");
      const asked = await readRun(env, s, runId);
      const fromStep = request.fromStep ?? "";
      if (asked.parentRunId && fromStep !== "") {
        throw new SwampError(
          ErrorCode.RUN_STATE,
          `run ${asked.id} is nested in run ${asked.parentRunId}; re-enter the top-level run instead`,
          { hint: `swamp workflow resume ${asked.parentRunId.slice(0, 8)} --from <step>` },
        );
      }
      // A nested run goes on as part of its parent: resuming it resumes the top-level run.
      const target = asked.parentRunId
        ? await readRun(env, s, (await rootRun(s, asked)).id)
        : asked;
      if (target.status === RunStatus.SUSPENDED) await checkNoPendingGates(s, target);
      if (target.status === RunStatus.ABANDONED) {
        await confirmLastAttemptGone(
          { store: s, clock: env.clock, executors: await env.executors() },
          target,
        );
      }
      const run = await startResume(env, s, target, {
        actor: ctx.principal.name,
        actorKind: ctx.principal.kind,
        inputs: (request.inputs ?? {}) as Record<string, unknown>,
        fromStep,
      });
      return create(ResumeRunResponseSchema, { run });
    },

    async listApprovals(request) {
      const s = await store();
      const approvals = [];
      for (const summary of await s.listActiveRuns()) {
        if (request.workflow && summary.workflowName !== request.workflow) continue;
        if (summary.status !== RunStatus.SUSPENDED && summary.status !== RunStatus.RUNNING) {
          continue;
        }
        const run = await readRun(env, s, summary.id);
        for (const gate of pendingGates(run)) {
          approvals.push(create(PendingApprovalSchema, {
            runId: run.id,
            workflowName: run.workflowName,
            stepId: gate.id,
            gate: gate.approval,
          }));
        }
      }
      return create(ListApprovalsResponseSchema, { approvals });
    },
  };
}
