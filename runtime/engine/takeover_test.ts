import { create } from "@bufbuild/protobuf";
import {
  PlacementSchema,
  RunSchema,
  RunStatus,
  StepProcessSchema,
  StepSchema,
  StepStatus,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Lease } from "../ports/leases.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import { takeoverPlan } from "./takeover.ts";

const lease = (stepId: string, state: Lease["state"] = "active"): Lease => ({
  id: `r/${stepId}#1.abcd0123`,
  runId: "r",
  stepId,
  attempt: 1,
  epoch: 1n,
  workerId: "w-1",
  createTime: new Date(0),
  expireTime: new Date(0),
  hasWritten: false,
  state,
});

Deno.test("a takeover adopts leased steps, requeues queued ones, abandons local ones, keeps gates", () => {
  const step = (id: string, status: StepStatus, more: Partial<Parameters<typeof create>[1]> = {}) =>
    create(StepSchema, { id, name: id, job: "main", status, itemIndex: -1, ...more });
  const run = create(RunSchema, {
    id: "r",
    status: RunStatus.RUNNING,
    steps: [
      step("main/done", StepStatus.SUCCEEDED),
      step("main/local", StepStatus.RUNNING, {
        process: create(StepProcessSchema, { pid: 4242, processStart: "1", executor: "loopback" }),
      }),
      step("main/remote", StepStatus.RUNNING, {
        attempt: 3,
        placement: create(PlacementSchema, {
          leaseId: "r/main/remote#1.abcd0123",
          credentialSha256: "ab12",
        }),
      }),
      step("main/placing", StepStatus.PENDING),
      step("main/queued", StepStatus.QUEUED),
      step("main/gate", StepStatus.WAITING_APPROVAL),
      step("main/fan", StepStatus.RUNNING),
      step("main/fan-0", StepStatus.PENDING, { templateId: "main/fan", itemIndex: 0 }),
      step("main/ended", StepStatus.RUNNING),
    ],
  });
  const plan = takeoverPlan(
    run,
    [lease("main/remote"), lease("main/placing"), lease("main/ended", "released")],
    "dead-1",
  );
  assertEquals(
    Object.fromEntries([...plan.adopt].map(([id, a]) => [id, a.leaseId])),
    { "main/remote": "r/main/remote#1.abcd0123", "main/placing": "r/main/placing#1.abcd0123" },
  );
  // Goes on with its lease's attempt (not the record's), and the credential its worker holds (0029).
  assertEquals(plan.adopt.get("main/remote"), {
    leaseId: "r/main/remote#1.abcd0123",
    attempt: 1,
    credentialSha256: "ab12",
  });
  const moves = plan.drafts.map((d) =>
    d.payload.case === "stepStatusChanged"
      ? `${d.payload.value.stepId} ${StepStatus[d.payload.value.from]}→${
        StepStatus[d.payload.value.to]
      }`
      : d.payload.case
  );
  assertEquals(moves, [
    "main/local RUNNING→ABANDONED",
    "main/remote RUNNING→PENDING",
    "main/queued QUEUED→PENDING",
    // A step whose lease ended but whose end the dead owner never recorded: its outcome is lost.
    "main/ended RUNNING→ABANDONED",
  ]);
  assertEquals(plan.orphans.map((p) => p.pid), [4242]);
  assertEquals(
    plan.drafts[1].reason,
    "taken over from instance dead-1: adopting lease r/main/remote#1.abcd0123",
  );
});
