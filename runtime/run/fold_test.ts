import { clone, equals, fromJson, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { type Run, RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { assert, assertEquals } from "../../test/helpers/mod.ts";
import { copyRun, foldEvents } from "./fold.ts";

/** A record with every kind of field a run carries: structs, values, timestamps, 64-bit numbers, nested messages. */
function richRun(): Run {
  const step = (i: number) => ({
    id: `main/s${i}`,
    name: `s${i}`,
    job: "main",
    status: "STEP_STATUS_SUCCEEDED",
    startTime: "2026-12-06T06:00:00.123456789Z",
    endTime: "2026-12-06T06:00:01Z",
    exitCode: i % 3,
    outputs: {
      text: "é\u0000\ud83d\udc38",
      n: i,
      ok: true,
      none: null,
      list: [1, "two", { three: [] }],
    },
    item: { host: `h${i}`, port: 22 },
    itemIndex: i,
    attempt: 2,
    retry: { attempt: 1, attempts: 3, nextTime: "2026-12-06T06:00:02Z" },
    placement: { target: "remote" },
  });
  return fromJson(RunSchema, {
    id: "0f5c0000-0000-4000-8000-000000000000",
    workflowName: "rich",
    revision: "9007199254740993",
    createTime: "2026-12-06T05:59:59Z",
    owner: { host: "h", bootId: "b", pid: 42, processStart: "123", epoch: "18446744073709551615" },
    inputs: { deep: { deeper: { deepest: [null, 1.5, "x"] } } },
    definition: { jobs: [{ name: "main" }] },
    jobs: [{ name: "main" }],
    steps: Array.from({ length: 50 }, (_, i) => step(i)),
    cancelTimeline: [{ stage: "interrupt", time: "2026-12-06T06:00:03Z", stepId: "main/s1" }],
    locks: ["model:a", "model:b"],
  } as JsonObject, { ignoreUnknownFields: false });
}

Deno.test("a copied record is exactly the record, as the reflective clone makes it, and shares nothing with it", () => {
  const run = richRun();
  const before = toBinary(RunSchema, run);
  const copy = copyRun(run);
  assert(equals(RunSchema, copy, clone(RunSchema, run)), "the copy equals protobuf's clone");
  assertEquals(toBinary(RunSchema, copy), before);
  (copy.steps[3].outputs as JsonObject).text = "changed";
  ((copy.inputs as JsonObject).deep as JsonObject).deeper = null;
  copy.owner!.epoch = 1n;
  copy.steps[0].startTime!.nanos = 0;
  copy.locks.push("model:c");
  copy.steps.pop();
  assertEquals(toBinary(RunSchema, run), before, "changing the copy left the record as it was");
});

Deno.test("folding events onto a snapshot leaves the snapshot as it was", () => {
  const snapshot = richRun();
  const before = toBinary(RunSchema, snapshot);
  const folded = foldEvents(snapshot, []);
  folded.steps[0].status = 0;
  assertEquals(toBinary(RunSchema, snapshot), before);
});

Deno.test("folding leaves the events as they were: a gate decided later does not change the event that opened it", () => {
  const snapshot = richRun();
  const events = [
    fromJson(RunEventSchema, {
      seq: "9007199254740994",
      stepStatusChanged: {
        stepId: "main/s1",
        from: "STEP_STATUS_SUCCEEDED",
        to: "STEP_STATUS_WAITING_APPROVAL",
        approval: { prompt: "ship it?", approvers: ["ops"] },
      },
    }),
    fromJson(RunEventSchema, {
      seq: "9007199254740995",
      approvalDecided: { stepId: "main/s1", decision: { approved: true, actor: "ops" } },
    }),
  ];
  const before = events.map((event) => toBinary(RunEventSchema, event));
  const opened = foldEvents(snapshot, events.slice(0, 1));
  const decided = foldEvents(snapshot, events);
  assert(decided.steps[1].approval?.decision !== undefined, "the second fold has the decision");
  assertEquals(opened.steps[1].approval?.decision, undefined, "the first fold still has none");
  assertEquals(events.map((event) => toBinary(RunEventSchema, event)), before);
  const again = foldEvents(snapshot, events.slice(0, 1));
  assertEquals(
    again.steps[1].approval?.decision,
    undefined,
    "a fold of the first event alone has none",
  );
});
