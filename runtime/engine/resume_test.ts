import { create } from "@bufbuild/protobuf";
import { RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  ApprovalDecisionSchema,
  ApprovalGateSchema,
  CancelStageSchema,
  JobSchema,
  type Run,
  RunSchema,
  StepProcessSchema,
  StepSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertThrows } from "../../test/helpers/assert.ts";
import { foldEvents } from "../run/fold.ts";
import type { EventDraft } from "../run/journal.ts";
import { JobStatus, RunStatus, StepStatus } from "../run/status.ts";
import type { Workflow } from "../workflow/schema.ts";
import { resumeDrafts } from "./resume.ts";

const ok = { type: "succeeded" } as const;
const shell = { type: "assert", expr: "true", message: "" } as const;

const workflow = {
  id: "6c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
  name: "w",
  jobs: [
    {
      name: "build",
      steps: [
        { name: "fetch", task: shell },
        { name: "compile", task: shell, dependsOn: [{ step: "fetch", condition: ok }] },
        { name: "test", task: shell, dependsOn: [{ step: "compile", condition: ok }] },
        { name: "lint", task: shell, dependsOn: [{ step: "fetch", condition: ok }] },
      ],
    },
    {
      name: "ship",
      dependsOn: [{ job: "build", condition: ok }],
      steps: [{ name: "go", task: shell }],
    },
    { name: "docs", steps: [{ name: "site", task: shell }] },
  ],
} as unknown as Workflow;

function failedRun(): Run {
  const step = (id: string, status: StepStatus, extra: Record<string, unknown> = {}) =>
    create(StepSchema, {
      id,
      name: id.split("/")[1].replace(/\[\d\]$/, ""),
      job: id.split("/")[0],
      status,
      itemIndex: -1,
      ...extra,
    });
  return create(RunSchema, {
    id: "run-1",
    status: RunStatus.FAILED,
    attempt: 1,
    jobs: [
      create(JobSchema, { name: "build", status: JobStatus.FAILED }),
      create(JobSchema, { name: "ship", status: JobStatus.SKIPPED }),
      create(JobSchema, { name: "docs", status: JobStatus.SUCCEEDED }),
    ],
    steps: [
      step("build/fetch", StepStatus.SUCCEEDED),
      step("build/compile", StepStatus.FAILED),
      step("build/test", StepStatus.SKIPPED),
      step("build/lint", StepStatus.SUCCEEDED),
      step("ship/go", StepStatus.SKIPPED),
      step("docs/site", StepStatus.SUCCEEDED),
    ],
  });
}

const request = { actor: "ada", inputKeys: ["env"], fromStep: "compile", now: new Date() };

Deno.test("--from resets the step, its dependents in its job and the jobs downstream; nothing else", () => {
  const drafts = resumeDrafts(failedRun(), workflow, request);
  const steps = drafts.flatMap((d) =>
    d.payload.case === "stepStatusChanged" ? [d.payload.value.stepId] : []
  );
  const jobs = drafts.flatMap((d) =>
    d.payload.case === "jobStatusChanged" ? [d.payload.value.job] : []
  );
  assertEquals(steps, ["build/compile", "build/test", "ship/go"]);
  assertEquals(jobs, ["build", "ship"]);
  const resumed = drafts.find((d) => d.payload.case === "runResumed")!.payload;
  assertEquals(resumed.case === "runResumed" && [resumed.value.attempt, resumed.value.inputKeys], [
    2,
    ["env"],
  ]);
});

Deno.test("resume refuses what it cannot do, and says why", () => {
  assertThrows(
    () => resumeDrafts(failedRun(), workflow, { ...request, fromStep: "" }),
    "failed steps: build/compile",
  );
  assertThrows(
    () => resumeDrafts(failedRun(), workflow, { ...request, fromStep: "nope" }),
    "has no step `nope`",
  );
  const running = failedRun();
  running.status = RunStatus.RUNNING;
  assertThrows(
    () => resumeDrafts(running, workflow, { ...request, fromStep: "" }),
    "is running: it was resumed already",
  );
  const done = failedRun();
  done.status = RunStatus.SUCCEEDED;
  assertThrows(
    () => resumeDrafts(done, workflow, { ...request, fromStep: "" }),
    "cannot be resumed",
  );
});

/** A run whose owner died mid-way, as reconcile leaves it. */
function abandonedRun(): Run {
  const step = (id: string, status: StepStatus, extra: Record<string, unknown> = {}) =>
    create(StepSchema, {
      id,
      name: id.split("/")[1].replace(/\[\d\]$/, ""),
      job: id.split("/")[0],
      status,
      itemIndex: -1,
      attempt: status === StepStatus.ABANDONED ? 0 : 1,
      ...extra,
    });
  const gate = (decided?: boolean) =>
    create(ApprovalGateSchema, {
      prompt: "Ship it?",
      approvers: ["ada"],
      onTimeout: "reject",
      decision: decided === undefined
        ? undefined
        : create(ApprovalDecisionSchema, { approved: decided, actor: "ada" }),
    });
  const item = (i: number, status: StepStatus) =>
    step(`build/each[${i}]`, status, { itemIndex: i, templateId: "build/each" });
  return create(RunSchema, {
    id: "run-2",
    status: RunStatus.ABANDONED,
    attempt: 1,
    jobs: [
      create(JobSchema, { name: "build", status: JobStatus.ABANDONED }),
      create(JobSchema, { name: "ship", status: JobStatus.ABANDONED }),
      create(JobSchema, { name: "docs", status: JobStatus.SUCCEEDED }),
    ],
    steps: [
      step("build/fetch", StepStatus.SUCCEEDED, {
        outputs: { fields: {} },
        process: create(StepProcessSchema, { pid: 10, pgid: 10 }),
      }),
      step("build/compile", StepStatus.ABANDONED, {
        process: create(StepProcessSchema, { pid: 11, pgid: 11 }),
      }),
      step("build/lint", StepStatus.SKIPPED, { reason: "guarded" }),
      step("build/test", StepStatus.SKIPPED, { reason: "step `compile` failed; needs succeeded" }),
      step("build/flaky", StepStatus.FAILED, { reason: "exit status 1" }),
      step("build/each", StepStatus.ABANDONED),
      item(0, StepStatus.SUCCEEDED),
      item(1, StepStatus.ABANDONED),
      item(2, StepStatus.FAILED),
      step("build/nested", StepStatus.ABANDONED, { childRunId: "child-1" }),
      step("ship/confirm", StepStatus.ABANDONED, { approval: gate() }),
      step("ship/veto", StepStatus.FAILED, { approval: gate(false), reason: "rejected by ada" }),
      step("ship/go", StepStatus.ABANDONED, { reason: "never started: owner gone" }),
      step("docs/site", StepStatus.SUCCEEDED),
    ],
  });
}

/** The record after `drafts`, folded as every reader folds it. */
function after(run: Run, drafts: EventDraft[]): Run {
  const events = drafts.map((d, i) =>
    create(RunEventSchema, {
      runId: run.id,
      seq: BigInt(i + 1),
      actor: d.actor,
      reason: d.reason,
      payload: d.payload,
    })
  );
  return foldEvents(run, events);
}

const abandonedRequest = { actor: "ada", inputKeys: [], fromStep: "", now: new Date() };

Deno.test("an abandoned run's new attempt runs again only what has no final outcome", () => {
  const run = abandonedRun();
  const drafts = resumeDrafts(run, workflow, abandonedRequest);
  const moves = drafts.flatMap((d) =>
    d.payload.case === "stepStatusChanged"
      ? [`${d.payload.value.stepId} ${StepStatus[d.payload.value.to]}`]
      : []
  );
  assertEquals(moves, [
    "build/compile PENDING",
    "build/test PENDING",
    "build/flaky PENDING",
    "build/each PENDING",
    "build/each[1] PENDING",
    "build/each[2] PENDING",
    "build/nested PENDING",
    "ship/confirm PENDING",
    "ship/confirm WAITING_APPROVAL",
    "ship/go PENDING",
  ]);
  const jobs = drafts.flatMap((d) =>
    d.payload.case === "jobStatusChanged" ? [d.payload.value.job] : []
  );
  assertEquals(jobs, ["build", "ship"]);
  const resumed = drafts[0];
  assertEquals(
    [
      resumed.actor,
      resumed.reason,
      resumed.payload.case === "runResumed" && resumed.payload.value.attempt,
    ],
    ["ada", "resumed after abandonment", 2],
  );

  const next = after(run, drafts);
  const byId = (id: string) => next.steps.find((s) => s.id === id)!;
  assertEquals([next.status, next.attempt, next.owner?.pid], [RunStatus.PENDING, 2, 0]);
  assertEquals(next.jobs.map((j) => j.status), [
    JobStatus.PENDING,
    JobStatus.PENDING,
    JobStatus.SUCCEEDED,
  ]);
  // What succeeded keeps its outputs and attempt, for the steps downstream to read.
  assertEquals([byId("build/fetch").status, byId("build/fetch").attempt], [
    StepStatus.SUCCEEDED,
    1,
  ]);
  assertEquals(byId("build/fetch").outputs !== undefined, true);
  assertEquals(byId("build/each[0]").status, StepStatus.SUCCEEDED);
  assertEquals(byId("build/lint").status, StepStatus.SKIPPED);
  assertEquals(byId("ship/veto").approval?.decision?.approved, false);
  // What runs again forgets its last attempt, but a nested run is resumed, not started over.
  assertEquals(byId("build/compile").process, undefined);
  assertEquals(byId("build/nested").childRunId, "child-1");
  // A gate that was waiting waits again, as the approvers saw it, in the new attempt.
  const confirm = byId("ship/confirm");
  assertEquals(
    [confirm.status, confirm.approval?.prompt, confirm.approval?.approvers, confirm.attempt],
    [StepStatus.WAITING_APPROVAL, "Ship it?", ["ada"], 2],
  );
  assertEquals(next.waiting?.on, { case: "approval", value: "ship/confirm" });
});

Deno.test("--from on an abandoned run also re-runs the entry step and what follows it", () => {
  const run = abandonedRun();
  run.steps.find((s) => s.id === "build/compile")!.childRunId = "child-0";
  const drafts = resumeDrafts(run, workflow, { ...abandonedRequest, fromStep: "fetch" });
  const reset = new Set(
    drafts.flatMap((d) =>
      d.payload.case === "stepStatusChanged" && d.payload.value.to === StepStatus.PENDING
        ? [d.payload.value.stepId]
        : []
    ),
  );
  assertEquals(reset.has("build/fetch") && reset.has("build/lint"), true);
  assertEquals(reset.has("docs/site"), false);
  // A `workflow` step re-entered starts its nested run over; one only abandoned resumes it.
  const steps = after(run, drafts).steps;
  assertEquals(steps.find((s) => s.id === "build/compile")!.childRunId, "");
  assertEquals(steps.find((s) => s.id === "build/nested")!.childRunId, "child-1");
  assertEquals(drafts[0].reason, "resumed after abandonment from build/fetch");
});

Deno.test("an abandoned run that was being cancelled is not resumed", () => {
  const run = abandonedRun();
  run.cancelTimeline.push(create(CancelStageSchema, { stage: "requested" }));
  assertThrows(
    () => resumeDrafts(run, workflow, abandonedRequest),
    "abandoned while it was being cancelled",
  );
});
