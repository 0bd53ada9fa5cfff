import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RunCreatedSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  ActorKind,
  type Run,
  RunSchema,
  RunStatus,
  type Trigger,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdSource } from "../ports/ids.ts";
import type { RunStore } from "../ports/store.ts";
import { planRun } from "../engine/plan.ts";
import type { Workflow } from "../workflow/schema.ts";
import { summarize } from "./fold.ts";

export interface NewRun {
  workflow: Workflow;
  workflowFile: string;
  workflowHash: string;
  inputs: Record<string, unknown>;
  actor: string;
  /** How the actor was identified; nested runs inherit their parent's. */
  actorKind?: ActorKind;
  trigger: Trigger;
  parentRunId?: string;
  parentStepId?: string;
}

/** Writes a new run, pending, pinned to the definition it starts with. */
export async function createRun(
  store: RunStore,
  clock: Clock,
  ids: IdSource,
  spec: NewRun,
): Promise<Run> {
  const now = timestampFromDate(clock.now());
  const { jobs, steps } = planRun(spec.workflow);
  const run = create(RunSchema, {
    id: ids.uuid(),
    workflowId: spec.workflow.id,
    workflowName: spec.workflow.name,
    workflowHash: spec.workflowHash,
    workflowFile: spec.workflowFile,
    status: RunStatus.PENDING,
    attempt: 1,
    actor: spec.actor,
    actorKind: spec.actorKind ?? ActorKind.UNSPECIFIED,
    trigger: spec.trigger,
    createTime: now,
    inputsJson: JSON.stringify(spec.inputs),
    definition: spec.workflow as unknown as JsonObject,
    jobs,
    steps,
    parentRunId: spec.parentRunId ?? "",
    parentStepId: spec.parentStepId ?? "",
    revision: 1n,
  });
  const first = create(RunEventSchema, {
    runId: run.id,
    seq: 1n,
    time: now,
    actor: spec.actor,
    reason: "created",
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);
  return run;
}
