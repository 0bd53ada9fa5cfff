import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApprovalGateSchema,
  JobSchema,
  type Run,
  RunSchema,
  StepSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertThrows } from "../../test/helpers/assert.ts";
import { RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { applyEvent } from "./fold.ts";
import { checkDecider, expiryDrafts, findGate } from "./gates.ts";
import { JobStatus, RunStatus, StepStatus } from "./status.ts";

const t0 = new Date("2026-11-21T09:00:00Z");
const later = (ms: number) => new Date(t0.getTime() + ms);

function gate(
  id: string,
  options: { expiresMs?: number; onTimeout?: string; approvers?: string[] } = {},
) {
  return create(StepSchema, {
    id,
    name: id.split("/")[1],
    job: "main",
    status: StepStatus.WAITING_APPROVAL,
    itemIndex: -1,
    approval: create(ApprovalGateSchema, {
      prompt: "ok?",
      approvers: options.approvers ?? [],
      onTimeout: options.onTimeout ?? "reject",
      expiresTime: options.expiresMs === undefined
        ? undefined
        : timestampFromDate(later(options.expiresMs)),
    }),
  });
}

function suspendedRun(...steps: ReturnType<typeof gate>[]): Run {
  return create(RunSchema, {
    id: "run-1",
    actor: "ada",
    status: RunStatus.SUSPENDED,
    attempt: 1,
    jobs: [create(JobSchema, { name: "main", status: JobStatus.RUNNING })],
    steps: [
      ...steps,
      create(StepSchema, { id: "main/after", name: "after", job: "main", itemIndex: -1 }),
    ],
  });
}

/** Folds drafts into the run as if they were written. */
function apply(run: Run, drafts: ReturnType<typeof expiryDrafts>): Run {
  let seq = run.revision;
  for (const draft of drafts) {
    applyEvent(
      run,
      create(RunEventSchema, {
        runId: run.id,
        seq: ++seq,
        time: timestampFromDate(later(10_000)),
        actor: draft.actor ?? "system",
        reason: draft.reason ?? "",
        payload: draft.payload,
      }),
    );
  }
  return run;
}

Deno.test("findGate: the only waiting gate, or a named one; several without a name is ambiguous", () => {
  const run = suspendedRun(gate("main/a"), gate("main/b"));
  assertEquals(findGate(run, "b").id, "main/b");
  assertEquals(findGate(run, "main/a").id, "main/a");
  assertThrows(() => findGate(run, ""), "2 gates waiting: main/a, main/b");
  assertThrows(() => findGate(run, "nope"), "no gate `nope`");
  assertEquals(findGate(suspendedRun(gate("main/a")), "").id, "main/a");
});

Deno.test("checkDecider: approvers, the run's starter and expiry", () => {
  const run = suspendedRun(gate("main/a", { approvers: ["grace"], expiresMs: 1000 }));
  const g = run.steps[0];
  checkDecider(run, g, "grace", later(999));
  assertThrows(() => checkDecider(run, g, "bob", later(0)), "its approvers are grace");
  assertThrows(() => checkDecider(run, g, "grace", later(1000)), "expired at 2026-11-21T09:00:01");
  g.approval!.approvers = [];
  g.approval!.forbidRunActor = true;
  assertThrows(() => checkDecider(run, g, "ada", later(0)), "ada started run run-1");
});

Deno.test("expiry: approvals are applied before a rejection that fails the run, and never twice", () => {
  const run = suspendedRun(
    gate("main/rejects", { expiresMs: 100 }),
    gate("main/approves", { expiresMs: 100, onTimeout: "approve" }),
    gate("main/later", { expiresMs: 60_000 }),
  );
  assertEquals(expiryDrafts(run, later(50)), []);
  apply(run, expiryDrafts(run, later(200)));
  const status = Object.fromEntries(run.steps.map((s) => [s.id, StepStatus[s.status]]));
  assertEquals(status, {
    "main/rejects": "FAILED",
    "main/approves": "SUCCEEDED",
    "main/later": "SKIPPED",
    "main/after": "SKIPPED",
  });
  assertEquals(run.status, RunStatus.FAILED);
  assertEquals(run.jobs[0].status, JobStatus.FAILED);
  assertEquals(run.steps[1].approval?.decision?.actor, "system");
  assertEquals(expiryDrafts(run, later(100_000)), []);
});
