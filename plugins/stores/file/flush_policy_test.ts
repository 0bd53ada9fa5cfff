import { create } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  LockChangedSchema,
  type RunEvent,
  RunEventSchema,
  StepStatusChangedSchema,
} from "../../../proto/gen/swamp/v1/event_pb.ts";
import { StepStatus } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../../test/helpers/mod.ts";
import { needsFlush } from "./flush_policy.ts";

const step = (from: StepStatus, to: StepStatus): RunEvent =>
  create(RunEventSchema, {
    payload: {
      case: "stepStatusChanged",
      value: create(StepStatusChangedSchema, { stepId: "a/b", from, to }),
    },
  });

Deno.test("only appends a power loss would make moot skip the flush", () => {
  const start = step(StepStatus.PENDING, StepStatus.RUNNING);
  const end = step(StepStatus.RUNNING, StepStatus.SUCCEEDED);
  const heartbeat = create(RunEventSchema, {
    payload: { case: "heartbeat", value: create(HeartbeatSchema) },
  });
  const locked = create(RunEventSchema, {
    payload: { case: "lockChanged", value: create(LockChangedSchema, { lock: "model:x/y" }) },
  });
  assertEquals(needsFlush([start]), false);
  assertEquals(needsFlush([locked]), false, "the lock files are the truth, not the event");
  assertEquals(needsFlush([end, locked]), true);
  assertEquals(needsFlush([heartbeat, start]), false);
  assertEquals(needsFlush([end]), true, "an outcome is flushed");
  assertEquals(needsFlush([start, end]), true, "one outcome flushes the whole append");
  assertEquals(
    needsFlush([step(StepStatus.WAITING_APPROVAL, StepStatus.RUNNING)]),
    true,
    "an approved gate resuming is a decision, not a start",
  );
});
