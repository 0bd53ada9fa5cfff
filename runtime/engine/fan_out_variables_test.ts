import { create } from "@bufbuild/protobuf";
import { type Run, RunSchema, type Step, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import { allowedFailuresText, fanOutSummaries } from "../run/fan_outs.ts";
import { StepStatus } from "../run/status.ts";
import { aggregate } from "./scheduler.ts";
import { stemOf, stepsVariable } from "./fan_out_variables.ts";

const template = "deploy-${{ self.host }}";

function record(statuses: StepStatus[], templateStatus = StepStatus.SUCCEEDED): Run {
  const steps: Step[] = [
    create(StepSchema, {
      id: `main/${template}`,
      name: template,
      job: "main",
      status: templateStatus,
      itemIndex: -1,
      allowFailure: true,
    }),
  ];
  // Recorded out of item order, as items that end out of order are: the variable keeps item order.
  for (const index of statuses.map((_, i) => i).reverse()) {
    const name = `deploy-h${index}`;
    steps.push(create(StepSchema, {
      id: `main/${name}`,
      templateId: `main/${template}`,
      name,
      job: "main",
      status: statuses[index],
      itemIndex: index,
      allowFailure: true,
      exitCode: statuses[index] === StepStatus.FAILED ? 1 : 0,
      outputs: statuses[index] === StepStatus.SKIPPED ? undefined : { stdout: `out ${index}` },
    }));
  }
  return create(RunSchema, { id: "r", attempt: 1, steps });
}

Deno.test("a fan-out reads as its items' outputs in item order, by its stem, and each item by its name", () => {
  const run = record([StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED]);
  const steps = stepsVariable(run, [run.steps[0]]) as Record<string, Record<string, unknown>>;
  assertEquals(steps.deploy, {
    status: "succeeded",
    exitCode: 0,
    outputs: [{ stdout: "out 0" }, { stdout: "out 1" }, {}],
    names: ["deploy-h0", "deploy-h1", "deploy-h2"],
    counts: { total: 3, succeeded: 1, failed: 1, skipped: 1, cancelled: 0, abandoned: 0 },
    failed: ["deploy-h1"],
  });
  // The template's own name cannot be written in an expression: not carried twice.
  assertEquals(steps[template], undefined);
  assertEquals(steps["deploy-h1"], { status: "failed", exitCode: 1, outputs: { stdout: "out 1" } });
});

Deno.test("a running fan-out lists no items yet; a plain-named one is read by its name", () => {
  const run = record([StepStatus.SUCCEEDED, StepStatus.RUNNING], StepStatus.RUNNING);
  const steps = stepsVariable(run, [run.steps[0]]) as Record<string, Record<string, unknown>>;
  assertEquals(steps.deploy.outputs, []);
  assertEquals((steps.deploy.counts as Record<string, number>).total, 2);

  // A record read afresh (templates never change their id within one record).
  const ended = record([StepStatus.SUCCEEDED, StepStatus.SUCCEEDED]);
  ended.steps[0].name = "deploy";
  ended.steps[0].id = "main/deploy";
  for (const item of ended.steps.slice(1)) item.templateId = "main/deploy";
  const plain = stepsVariable(ended, [ended.steps[0]]) as Record<string, Record<string, unknown>>;
  assertEquals(plain.deploy.outputs, [{ stdout: "out 0" }, { stdout: "out 1" }]);
});

Deno.test("a step named like a stem keeps its name", () => {
  const run = record([StepStatus.SUCCEEDED]);
  const own = create(StepSchema, { id: "main/deploy", name: "deploy", job: "main", itemIndex: -1 });
  run.steps.push(own);
  const steps = stepsVariable(run, [run.steps[0], own]) as Record<string, Record<string, unknown>>;
  assertEquals(steps.deploy.outputs, {});
});

Deno.test("stems: the text before the first expression, separators trimmed", () => {
  assertEquals(stemOf("deploy-${{ self.host }}"), "deploy");
  assertEquals(stemOf("compile ${{ self.region }}"), "compile");
  assertEquals(stemOf("${{ self.host }}-ping"), "");
  assertEquals(stemOf("plain"), "");
});

Deno.test("allowed item failures are counted and named, never hidden behind succeeded", () => {
  const run = record([StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.FAILED]);
  const items = run.steps.slice(1).reverse();
  assertEquals(aggregate(items), [
    StepStatus.SUCCEEDED,
    "3 items; 2 failed (allowed): deploy-h1, deploy-h2",
  ]);
  assertEquals(fanOutSummaries(run), [{
    step: `main/${template}`,
    total: 3,
    counts: { succeeded: 1, failed: 2 },
    failedItems: ["deploy-h2", "deploy-h1"],
    allowFailure: true,
  }]);
  assertEquals(allowedFailuresText(run), "2 of 3 items failed (allowed)");
  assertEquals(allowedFailuresText(record([StepStatus.SUCCEEDED])), "");
});
