import { create, toJson } from "@bufbuild/protobuf";
import {
  CancelRequestedSchema,
  HeartbeatSchema,
  OwnerChangedSchema,
  type RunEvent,
  RunEventSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  JobSchema,
  OwnerSchema,
  type Run,
  RunSchema,
  RunSummarySchema,
  StepSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import { applyEvent, foldEvents, summarize } from "./fold.ts";
import { JobStatus, RunStatus, StepStatus } from "./status.ts";

function pendingRun(): Run {
  return create(RunSchema, {
    id: "run-1",
    status: RunStatus.PENDING,
    attempt: 1,
    jobs: [create(JobSchema, { name: "main", status: JobStatus.PENDING })],
    steps: [create(StepSchema, { id: "main/a", name: "a", job: "main", itemIndex: -1 })],
    revision: 1n,
  });
}

/** The log a takeover leaves: owner 1 starts the run, owner 2 claims it, owner 1 writes on. */
function takeoverLog(): RunEvent[] {
  let seq = 1n;
  const event = (ownerEpoch: bigint, payload: RunEvent["payload"]) =>
    create(RunEventSchema, { runId: "run-1", seq: ++seq, ownerEpoch, payload });
  const claim = (pid: number, epoch: bigint) =>
    event(epoch, {
      case: "ownerChanged",
      value: create(OwnerChangedSchema, {
        owner: create(OwnerSchema, { host: "h", pid, epoch }),
      }),
    });
  const run = (from: RunStatus, to: RunStatus) =>
    ({
      case: "runStatusChanged",
      value: create(RunStatusChangedSchema, { from, to }),
    }) as const;
  const step = (from: StepStatus, to: StepStatus) =>
    ({
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, { stepId: "main/a", from, to }),
    }) as const;
  return [
    claim(100, 1n),
    event(1n, run(RunStatus.PENDING, RunStatus.RUNNING)),
    claim(200, 2n),
    // Owner 1 has not seen the claim: its writes are in the log but change nothing.
    event(1n, step(StepStatus.PENDING, StepStatus.FAILED)),
    event(1n, run(RunStatus.RUNNING, RunStatus.FAILED)),
    event(1n, { case: "heartbeat", value: create(HeartbeatSchema, {}) }),
    // A writer that never owns the run (a cancel) is not fenced off.
    event(0n, { case: "cancelRequested", value: create(CancelRequestedSchema, {}) }),
    // A resume records "no owner yet": the epoch stays, so owner 1 stays fenced off.
    event(0n, {
      case: "ownerChanged",
      value: create(OwnerChangedSchema, { owner: create(OwnerSchema, {}) }),
    }),
    event(1n, step(StepStatus.PENDING, StepStatus.SUCCEEDED)),
    event(2n, step(StepStatus.PENDING, StepStatus.RUNNING)),
  ];
}

Deno.test("the fold ignores what an owner writes after a newer claim, and keeps the epoch", () => {
  const run = pendingRun();
  for (const event of takeoverLog()) applyEvent(run, event);
  assertEquals(run.revision, 11n);
  assertEquals(run.status, RunStatus.RUNNING);
  assertEquals(run.steps[0].status, StepStatus.RUNNING);
  assertEquals(run.cancelTimeline.map((stage) => stage.stage), ["requested"]);
  assertEquals(run.owner?.epoch, 2n);
  assertEquals(run.owner?.pid, 0);
});

Deno.test("a snapshot taken anywhere in the log folds to the same record and summary", () => {
  const log = takeoverLog();
  const whole = foldEvents(pendingRun(), log);
  for (let cut = 0; cut <= log.length; cut++) {
    const snapshot = foldEvents(pendingRun(), log.slice(0, cut));
    const resumed = foldEvents(snapshot, log.slice(cut));
    assertEquals(
      toJson(RunSchema, resumed),
      toJson(RunSchema, whole),
      `snapshot after ${cut} events`,
    );
    assertEquals(
      toJson(RunSummarySchema, summarize(resumed)),
      toJson(RunSummarySchema, summarize(whole)),
    );
  }
});
