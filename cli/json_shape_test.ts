import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RunEventSchema } from "../proto/gen/swamp/v1/event_pb.ts";
import {
  RunSchema,
  RunStatus,
  StepSchema,
  StepStatus,
  Trigger,
} from "../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../test/helpers/assert.ts";
import { cliJson } from "./json_shape.ts";

Deno.test("--json shape: lowercase enums, numbers, absent when unset, zeros that are values kept", () => {
  const run = create(RunSchema, {
    id: "r1",
    workflowName: "deploy",
    status: RunStatus.SUCCEEDED,
    trigger: Trigger.MANUAL,
    attempt: 1,
    revision: 12n,
    createTime: timestampFromDate(new Date("2026-12-04T10:00:00Z")),
    steps: [
      create(StepSchema, {
        id: "j/ran",
        status: StepStatus.SUCCEEDED,
        exitCode: 0,
        attempt: 1,
        itemIndex: 0,
        process: { pid: 42, pgid: 42, executor: "loopback" },
        outputs: { exitCode: 0, stdout: "" },
      }),
      create(StepSchema, {
        id: "j/waits",
        status: StepStatus.PENDING,
        itemIndex: -1,
        placement: { labels: { region: "eu-west-3", empty: "" } },
      }),
    ],
  });
  assertEquals(cliJson(RunSchema, run), {
    id: "r1",
    workflowName: "deploy",
    status: "succeeded",
    attempt: 1,
    trigger: "manual",
    createTime: "2026-12-04T10:00:00Z",
    jobs: [],
    steps: [
      {
        id: "j/ran",
        status: "succeeded",
        exitCode: 0,
        outputs: { exitCode: 0, stdout: "" },
        process: { pid: 42, pgid: 42, executor: "loopback" },
        allowFailure: false,
        itemIndex: 0,
        attempt: 1,
      },
      {
        id: "j/waits",
        status: "pending",
        allowFailure: false,
        // A map's values are kept whatever they are.
        placement: { labels: { region: "eu-west-3", empty: "" } },
      },
    ],
    cancelTimeline: [],
    revision: 12,
    locks: [],
  });
});

Deno.test("--json shape: a oneof member under its own name; 64-bit values past 2^53 stay exact as text", () => {
  const event = create(RunEventSchema, {
    runId: "r1",
    seq: 2n ** 60n,
    payload: {
      case: "stepStatusChanged",
      value: { stepId: "j/s", from: StepStatus.RUNNING, to: StepStatus.FAILED, exitCode: 0 },
    },
  });
  assertEquals(cliJson(RunEventSchema, event), {
    runId: "r1",
    seq: "1152921504606846976",
    stepStatusChanged: { stepId: "j/s", from: "running", to: "failed", exitCode: 0 },
  });
});
