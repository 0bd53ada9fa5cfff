import { create } from "@bufbuild/protobuf";
import {
  RunStatusChangedSchema,
  StepStatusChangedSchema,
  WaitingChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import { ApprovalGateSchema, type Run, WaitingSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { renderTemplate } from "../expressions/template.ts";
import { expiryFrom } from "../run/gates.ts";
import type { EventDraft } from "../run/journal.ts";
import { RunStatus, StepStatus } from "../run/status.ts";
import type { Task } from "../workflow/schema.ts";
import type { EngineDeps } from "./deps.ts";
import { type StepContext, stepVariables } from "./identity.ts";
import { durationMs } from "./shell_task.ts";

type ApprovalTask = Extract<Task, { type: "manual_approval" }>;

/**
 * The events of reaching a gate: the step waits with its evaluated prompt,
 * who may decide, and when it expires. Nothing runs; the run suspends once
 * the steps already running have finished.
 */
export async function reachGate(
  deps: EngineDeps,
  task: ApprovalTask,
  context: StepContext,
): Promise<EventDraft[]> {
  const id = context.step.id;
  const prompt = await renderTemplate(
    task.prompt,
    stepVariables(context),
    deps.evaluator,
    `prompt of ${id}`,
  );
  const gate = create(ApprovalGateSchema, {
    prompt: typeof prompt === "string" ? prompt : JSON.stringify(prompt),
    approvers: task.approvers ?? [],
    forbidRunActor: task.allowRunActor === false,
    expiresTime: expiryFrom(deps.clock.now(), durationMs(task.timeout)),
    onTimeout: task.onTimeout ?? "reject",
  });
  return [
    {
      reason: "waiting for approval",
      payload: {
        case: "stepStatusChanged",
        value: create(StepStatusChangedSchema, {
          stepId: id,
          from: StepStatus.PENDING,
          to: StepStatus.WAITING_APPROVAL,
          approval: gate,
        }),
      },
    },
    waitingFor(id, id),
  ];
}

/** The run (and step `stepId`) now wait on the approval of `gate`. */
export function waitingFor(stepId: string, gate: string): EventDraft {
  return {
    payload: {
      case: "waitingChanged",
      value: create(WaitingChangedSchema, {
        stepId,
        waiting: create(WaitingSchema, { on: { case: "approval", value: gate } }),
      }),
    },
  };
}

/** Suspending: the run waits, on disk, for decisions; no process owns it. */
export function suspendDraft(run: Run): EventDraft {
  const waiting = run.steps.filter((s) => s.status === StepStatus.WAITING_APPROVAL).map((s) =>
    s.id
  );
  return {
    reason: `waiting for approval: ${waiting.join(", ")}`,
    payload: {
      case: "runStatusChanged",
      value: create(RunStatusChangedSchema, { from: run.status, to: RunStatus.SUSPENDED }),
    },
  };
}
