import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { LogLineSchema, RunEventSchema } from "../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../test/helpers/mod.ts";
import { FollowMerge } from "./follow_merge.ts";

function stepEvent(ms: number, to: StepStatus) {
  return create(RunEventSchema, {
    time: timestampFromMs(ms),
    payload: { case: "stepStatusChanged", value: { stepId: "main/a", to } },
  });
}

function runEvent(ms: number, to: RunStatus) {
  return create(RunEventSchema, {
    time: timestampFromMs(ms),
    payload: { case: "runStatusChanged", value: { to } },
  });
}

function line(ms: number, text: string) {
  return create(LogLineSchema, { time: timestampFromMs(ms), stepId: "main/a", text });
}

Deno.test("follow merge: items print in the run's order, whichever stream brought them first", () => {
  let now = 0;
  const printed: string[] = [];
  const merge = new FollowMerge(400, () => now);
  // The log stream polled first and brought the whole step's output.
  merge.addLine(line(12, "one"), () => printed.push("one"));
  merge.addLine(line(13, "two"), () => printed.push("two"));
  now = 150;
  merge.addEvent(runEvent(10, RunStatus.RUNNING), () => printed.push("run running"));
  merge.addEvent(stepEvent(11, StepStatus.RUNNING), () => printed.push("a running"));
  merge.addEvent(stepEvent(13, StepStatus.SUCCEEDED), () => printed.push("a succeeded"));
  merge.flush();
  assertEquals(printed, [], "nothing before it has waited for the other stream");
  now = 420;
  merge.flush();
  assertEquals(printed, [], "the lines are ripe, but earlier events are still held");
  now = 560;
  merge.flush();
  assertEquals(printed, ["run running", "a running", "one", "two", "a succeeded"]);
});

Deno.test("follow merge: an earlier item still waiting holds back later ones; the end prints all", () => {
  let now = 0;
  const printed: string[] = [];
  const merge = new FollowMerge(400, () => now);
  merge.addEvent(stepEvent(5, StepStatus.RUNNING), () => printed.push("a running"));
  now = 300;
  merge.addLine(line(6, "early"), () => printed.push("early"));
  now = 450;
  merge.flush();
  assertEquals(printed, ["a running"]);
  merge.addLine(line(20, "late"), () => printed.push("late"));
  merge.addEvent(stepEvent(20, StepStatus.FAILED), () => printed.push("a failed"));
  merge.flush(true);
  assertEquals(printed, ["a running", "early", "late", "a failed"]);
});

Deno.test("follow merge: at the same instant a step's start comes before its output", () => {
  let now = 0;
  const printed: string[] = [];
  const merge = new FollowMerge(0, () => now);
  merge.addLine(line(7, "out"), () => printed.push("out"));
  merge.addEvent(stepEvent(7, StepStatus.RUNNING), () => printed.push("a running"));
  now = 1;
  merge.flush();
  assertEquals(printed, ["a running", "out"]);
});
