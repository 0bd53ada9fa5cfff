import { create } from "@bufbuild/protobuf";
import {
  CancelRequestedSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { Trigger } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  CancelRunResponseSchema,
  ReconcileRunsResponseSchema,
  type RunService,
  SubmitRunResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { isSameProcessAlive } from "../host/mod.ts";
import { loadModelCatalog } from "../model/catalog.ts";
import type { RunStore } from "../ports/store.ts";
import { createRun } from "../run/create.ts";
import { resolveInputs } from "../run/inputs.ts";
import { type EventDraft, RunJournal } from "../run/journal.ts";
import { reconcileRun } from "../run/reconcile.ts";
import {
  isSettledRun,
  isTerminalRun,
  isTerminalStep,
  RunStatus,
  StepStatus,
} from "../run/status.ts";
import { sha256Hex } from "../text/hash.ts";
import { WorkflowCatalog } from "../workflow/catalog.ts";
import { workflow as workflowSchema } from "../workflow/schema.ts";
import { sleep } from "../engine/locks.ts";
import type { ServiceClient } from "./client.ts";
import { readRun } from "./run_reads.ts";
import { resolveRunId, type RunServiceEnv } from "./run_env.ts";

type Client = ServiceClient<typeof RunService>;

const cancelWaitMs = 30_000;

export function runWrites(env: RunServiceEnv, store: () => Promise<RunStore>): Pick<
  Client,
  "submitRun" | "cancelRun" | "reconcileRuns"
> {
  return {
    async submitRun(request) {
      const root = await env.locator.root();
      const [catalog, models] = await Promise.all([
        WorkflowCatalog.load(root),
        loadModelCatalog(root),
      ]);
      const entry = catalog.find(request.workflow ?? "");
      const diagnostics = [...models.diagnostics, ...catalog.validate(entry, models)]
        .filter((d) => d.severity === Severity.ERROR);
      const parsed = workflowSchema.safeParse(entry.source.data);
      if (diagnostics.length > 0 || !parsed.success) {
        throw new SwampError(
          ErrorCode.INVALID_WORKFLOW,
          `workflow ${request.workflow} is not valid: ${diagnostics.length} problem(s)`,
          {
            hint: `see them with \`swamp workflow validate ${request.workflow}\``,
            diagnostics,
          },
        );
      }
      const s = await store();
      // A new run of a workflow is a read of its earlier runs: a dead owner is found now (DESIGN §6).
      for (const active of await s.listActiveRuns()) {
        if (active.workflowName === parsed.data.name) {
          await reconcileRun(
            { store: s, clock: env.clock, executors: await env.executors() },
            active.id,
          );
        }
      }
      const run = await createRun(s, env.clock, env.ids, {
        workflow: parsed.data,
        workflowFile: entry.file,
        workflowHash: await sha256Hex(entry.source.text),
        inputs: resolveInputs(
          parsed.data.inputs,
          (request.inputs ?? {}) as Record<string, unknown>,
        ),
        actor: request.actor || env.defaultActor,
        trigger: request.trigger || Trigger.MANUAL,
      });
      await env.launchSupervisor(root, run.id);
      return create(SubmitRunResponseSchema, { run });
    },

    async cancelRun(request) {
      const s = await store();
      const runId = await resolveRunId(s, request.runId ?? "");
      const before = await readRun(env, s, runId);
      if (isTerminalRun(before.status)) {
        return create(CancelRunResponseSchema, { run: before, changed: false });
      }
      const actor = request.actor || env.defaultActor;
      const journal = await RunJournal.open(s, runId, env.clock, actor);
      await journal.write((run) => {
        if (isTerminalRun(run.status)) return undefined;
        const drafts: EventDraft[] = [{
          reason: request.reason ?? "",
          payload: {
            case: "cancelRequested",
            value: create(CancelRequestedSchema, { requestedBy: actor }),
          },
        }];
        if (run.status === RunStatus.SUSPENDED) {
          // Nobody owns a suspended run: the cancel is complete as soon as it is written.
          for (const step of run.steps) {
            if (!isTerminalStep(step.status)) drafts.push(stepCancelled(step.id, step.status));
          }
          drafts.push(statusChange(run.status, RunStatus.CANCELLED, "cancelled while suspended"));
        } else if (run.status !== RunStatus.CANCELLING) {
          drafts.push(
            statusChange(run.status, RunStatus.CANCELLING, request.reason || "cancel requested"),
          );
        }
        return drafts;
      });
      await deliver(journal.run.owner);
      let run = journal.run;
      const deadline = Date.now() + cancelWaitMs;
      while (!request.noWait && !isSettledRun(run.status) && Date.now() < deadline) {
        await sleep(100);
        run = await readRun(env, s, runId);
      }
      return create(CancelRunResponseSchema, { run, changed: true });
    },

    async reconcileRuns(request) {
      const s = await store();
      const active = await s.listActiveRuns();
      const changes = [];
      for (const summary of active) {
        const change = await reconcileRun(
          { store: s, clock: env.clock, executors: await env.executors() },
          summary.id,
          {
            dryRun: request.dryRun,
          },
        );
        if (change) changes.push(change);
      }
      return create(ReconcileRunsResponseSchema, { changes, examined: active.length });
    },
  };
}

/** Tells a live owner on this host to look at its log now (it also looks on its own, less often). */
async function deliver(owner: { pid: number; processStart: string } | undefined): Promise<void> {
  if (!owner || owner.pid === 0) return;
  if (await isSameProcessAlive(owner.pid, owner.processStart)) {
    try {
      Deno.kill(owner.pid, "SIGUSR1");
    } catch {
      // It ended in between; the log already says what happened.
    }
  }
}

function statusChange(from: RunStatus, to: RunStatus, reason: string): EventDraft {
  return {
    reason,
    payload: { case: "runStatusChanged", value: create(RunStatusChangedSchema, { from, to }) },
  };
}

function stepCancelled(stepId: string, from: StepStatus): EventDraft {
  return {
    reason: "run cancelled",
    payload: {
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, { stepId, from, to: StepStatus.CANCELLED }),
    },
  };
}
