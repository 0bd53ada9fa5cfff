import { create } from "@bufbuild/protobuf";
import {
  CancelRequestedSchema,
  JobStatusChangedSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { type Run, Trigger } from "../../proto/gen/swamp/v1/run_pb.ts";
import {
  CancelRunResponseSchema,
  ReconcileRunsResponseSchema,
  type RunService,
  SubmitRunResponseSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { loadModelCatalog } from "../model/catalog.ts";
import type { RunStore } from "../ports/store.ts";
import { createRun, type NewRun } from "../run/create.ts";
import { checkInputsReadable, resolveInputs } from "../run/inputs.ts";
import { type EventDraft, RunJournal } from "../run/journal.ts";
import {
  isActiveJob,
  isSettledRun,
  isTerminalRun,
  isTerminalStep,
  JobStatus,
  RunStatus,
  StepStatus,
} from "../run/status.ts";
import { sha256Hex } from "../text/hash.ts";
import { WorkflowCatalog } from "../workflow/catalog.ts";
import { sleep } from "../engine/locks.ts";
import type { ServiceImpl } from "./call_context.ts";
import { readRun } from "./run_reads.ts";
import { pokeOwner } from "./owner_signal.ts";
import { checkActiveRun } from "./check_active.ts";
import { resolveRunId, type RunServiceEnv } from "./run_env.ts";
import { endSilentOwner, heartbeatOf } from "./wedged_owner.ts";
import { resolveLockNames } from "./lock_names.ts";
import { startSupervisor, watchSupervisorStart } from "./supervisor_start.ts";

type Client = ServiceImpl<typeof RunService>;

const cancelWaitMs = 30_000;

export function runWrites(env: RunServiceEnv, store: () => Promise<RunStore>): Pick<
  Client,
  "submitRun" | "cancelRun" | "reconcileRuns"
> {
  const writes: Pick<Client, "submitRun" | "cancelRun" | "reconcileRuns"> = {
    async submitRun(request, ctx) {
      const ahead = await env.submittedAhead?.(request);
      if (ahead) {
        await watchSupervisorStart(env, await store(), ahead.run.id, ahead.launched);
        return create(SubmitRunResponseSchema, { run: ahead.run });
      }
      const root = await env.locator.root();
      const [catalog, models, executors] = await Promise.all([
        WorkflowCatalog.load(root),
        loadModelCatalog(root, { extensions: env.extensions }),
        env.executors(),
      ]);
      const entry = catalog.find(request.workflow ?? "");
      // A broken extension module does not stop runs of workflows that do not use its type
      // (those that do get `unknown-model-type` from their own validation).
      const definitionProblems = models.diagnostics.filter((d) =>
        !d.file.startsWith("extensions/")
      );
      const diagnostics = [...definitionProblems, ...catalog.validate(entry, models, executors)]
        .filter((d) => d.severity === Severity.ERROR);
      const parsed = entry.shape;
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
        if (active.workflowName === parsed.data.name) await checkActiveRun(env, s, active);
      }
      const inputs = resolveInputs(
        parsed.data.inputs,
        (request.inputs ?? {}) as Record<string, unknown>,
      );
      checkInputsReadable(inputs);
      const workflow = await resolveLockNames(parsed.data, inputs, env.expressions?.());
      const spec: NewRun = {
        workflow,
        workflowFile: entry.file,
        workflowHash: await sha256Hex(entry.source.text),
        inputs,
        actor: ctx.principal.name,
        actorKind: ctx.principal.kind,
        trigger: request.trigger || Trigger.MANUAL,
      };
      if (env.startRun) return create(SubmitRunResponseSchema, { run: await env.startRun(spec) });
      const run = await createRun(s, env.clock, env.ids, spec);
      await startSupervisor(env, s, run.id);
      return create(SubmitRunResponseSchema, { run });
    },

    async cancelRun(request, ctx) {
      const s = await store();
      const runId = await resolveRunId(s, request.runId ?? "");
      const before = await readRun(env, s, runId);
      if (isTerminalRun(before.status)) {
        return create(CancelRunResponseSchema, { run: before, changed: false });
      }
      const actor = ctx.principal.name;
      const journal = await RunJournal.open(s, runId, env.clock, actor, ctx.principal.kind);
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
          drafts.push(...cancelSuspended(run));
        } else if (run.status !== RunStatus.CANCELLING) {
          drafts.push(
            statusChange(run.status, RunStatus.CANCELLING, request.reason || "cancel requested"),
          );
        }
        return drafts;
      });
      await pokeOwner(journal.run.owner);
      // Nested runs that waited with it are cancelled with it.
      for (const step of journal.run.steps) {
        if (step.childRunId && step.status === StepStatus.CANCELLED) {
          await writes.cancelRun({ ...request, runId: step.childRunId, noWait: true }, ctx)
            .catch(() => {});
        }
      }
      let run = journal.run;
      const waitStart = Date.now();
      const beatAtRequest = heartbeatOf(run);
      // A caller that goes away stops the wait, never the cancel: it is already recorded.
      while (
        !request.noWait && !isSettledRun(run.status) && Date.now() < waitStart + cancelWaitMs &&
        !ctx.signal.aborted
      ) {
        await sleep(100);
        run = await readRun(env, s, runId);
      }
      // The whole wait without a heartbeat: the owner is alive but not answering.
      if (
        !request.noWait && !ctx.signal.aborted && !isSettledRun(run.status) &&
        heartbeatOf(run) === beatAtRequest &&
        await endSilentOwner(env, s, run, Date.now() - waitStart, actor)
      ) {
        run = await readRun(env, s, runId);
      }
      return create(CancelRunResponseSchema, { run, changed: true });
    },

    async reconcileRuns(request) {
      const s = await store();
      const active = await s.listActiveRuns();
      const changes = [];
      for (const summary of active) {
        const change = await checkActiveRun(env, s, summary, request.dryRun === true);
        if (change) changes.push(change);
      }
      return create(ReconcileRunsResponseSchema, { changes, examined: active.length });
    },
  };
  return writes;
}

function statusChange(from: RunStatus, to: RunStatus, reason: string): EventDraft {
  return {
    reason,
    payload: { case: "runStatusChanged", value: create(RunStatusChangedSchema, { from, to }) },
  };
}

/** Every step and job of a suspended run that has not ended is cancelled, then the run. */
function cancelSuspended(run: Run): EventDraft[] {
  const drafts: EventDraft[] = [];
  for (const step of run.steps) {
    if (!isTerminalStep(step.status)) drafts.push(stepCancelled(step.id, step.status));
  }
  for (const job of run.jobs) {
    if (isActiveJob(job.status)) {
      drafts.push({
        reason: "run cancelled",
        payload: {
          case: "jobStatusChanged",
          value: create(JobStatusChangedSchema, {
            job: job.name,
            from: job.status,
            to: JobStatus.CANCELLED,
          }),
        },
      });
    }
  }
  drafts.push(statusChange(run.status, RunStatus.CANCELLED, "cancelled while suspended"));
  return drafts;
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
