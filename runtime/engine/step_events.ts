import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  StepOutputsRecordedSchema,
  StepStatusChangedSchema,
  WaitingChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  CancelStageSchema,
  type Placement,
  StepProcessSchema,
  type StepRetry,
  WaitingSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import type { RecordedProcess } from "../ports/executor.ts";
import type { StepStatus } from "../run/status.ts";

// The events a step's transitions are written as: plain builders, shared by
// the step runner, the scheduler's drafts and the cancel path.

/** A step status change with its reason, as the journal takes it. */
export function stepDraft(id: string, from: StepStatus, to: StepStatus, reason: string) {
  return {
    reason,
    payload: { case: "stepStatusChanged" as const, value: stepChange(id, from, to) },
  };
}

export function stepChange(
  stepId: string,
  from: StepStatus,
  to: StepStatus,
  exitCode = 0,
  process?: RecordedProcess,
  placement?: Placement,
  attempt?: number,
  retry?: StepRetry,
) {
  return create(StepStatusChangedSchema, {
    retry,
    stepId,
    from,
    to,
    exitCode,
    placement,
    attempt: attempt ?? 0,
    process: process && create(StepProcessSchema, {
      pid: process.pid,
      pgid: process.pgid,
      processStart: process.processStart,
      containerId: process.containerId ?? "",
      executor: process.executor,
      workerId: process.workerId ?? "",
      leaseId: process.leaseId ?? "",
    }),
  });
}

/** What a step waits on while queued for a worker ("" when it waits no more). */
export function workerWait(stepId: string, reason: string) {
  return {
    payload: {
      case: "waitingChanged" as const,
      value: create(WaitingChangedSchema, {
        stepId,
        waiting: create(WaitingSchema, reason ? { on: { case: "worker", value: reason } } : {}),
      }),
    },
  };
}

export function stepOutputs(stepId: string, outputs: JsonObject) {
  return create(StepOutputsRecordedSchema, { stepId, outputs });
}

export function cancelStage(stage: string, stepId: string, detail: string, time: Date) {
  return create(CancelStageSchema, { stage, stepId, detail, time: timestampFromDate(time) });
}
