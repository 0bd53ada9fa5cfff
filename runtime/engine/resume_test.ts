import { create } from "@bufbuild/protobuf";
import { JobSchema, type Run, RunSchema, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertThrows } from "../../test/helpers/assert.ts";
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
