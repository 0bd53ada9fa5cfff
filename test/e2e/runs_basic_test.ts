import {
  assert,
  assertEquals,
  assertMatch,
  repoWith,
  shellStep,
  statusJson,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";
import { localPrincipal } from "../../cli/wiring.ts";

const dag = `id: 5b1f0a8e-3c2d-4e6f-9a1b-2c3d4e5f6a7b
name: dag
inputs:
  properties:
    greeting: {type: string, default: hello}
jobs:
  - name: build
    steps:
${
  shellStep(
    "one",
    'echo one; echo "$SWAMP_RUN_ID $SWAMP_STEP_ID $SWAMP_JOB_NAME $SWAMP_WORKFLOW_NAME"',
  )
}${
  shellStep(
    "two",
    "echo two >&2; exit 3",
    "        dependsOn: [{step: one, condition: {type: succeeded}}]\n",
  )
}${
  shellStep(
    "three",
    "echo three",
    "        dependsOn: [{step: two, condition: {type: succeeded}}]\n",
  )
}${
  shellStep(
    "cleanup",
    "echo cleanup",
    "        dependsOn: [{step: two, condition: {type: failed}}]\n",
  )
}  - name: report
    dependsOn: [{job: build, condition: {type: completed}}]
    steps:
      - name: fan
        forEach: {item: x, in: [a, b, c]}
        concurrency: 2
        task: {type: model_method, modelType: command/shell, modelName: fan, methodName: execute, inputs: {run: "echo item $SWAMP_ITEM_INDEX"}}
  - name: never
    dependsOn: [{job: build, condition: {type: succeeded}}]
    steps:
${shellStep("unreached", "echo no")}`;

for (const store of storeKinds) {
  Deno.test(`[${store}] a run follows its DAG, records outputs and logs, and exits with its outcome`, async () => {
    await using repo = await repoWith(store, { "workflows/workflow-dag.yaml": dag });
    const result = await repo.cli(["workflow", "run", "dag"]);
    assertEquals(result.code, 1, result.stderr);
    const runId = result.stdout.split("\n")[0];
    assertMatch(runId, /^[0-9a-f-]{36}$/);
    assertMatch(result.stdout, /^\[build\/one\] one$/m);
    assertMatch(result.stdout, /^\[build\/two\] two$/m);
    assertMatch(result.stderr, /run .* failed: failed jobs: build/);

    const run = await statusJson(repo, runId.slice(0, 8));
    assertEquals(run.status, "failed");
    const steps = Object.fromEntries(run.steps.map((s) => [s.id, s]));
    assertEquals(steps["build/one"].status, "succeeded");
    assertEquals(steps["build/two"].status, "failed");
    assertEquals(steps["build/two"].reason, "exited with status 3");
    assertEquals(steps["build/three"].status, "skipped");
    assertEquals(steps["build/three"].reason, "step `two` failed; needs succeeded");
    assertEquals(steps["build/cleanup"].status, "succeeded");
    assertEquals(steps["report/fan"].status, "succeeded");
    assertEquals(
      ["report/fan[0]", "report/fan[1]", "report/fan[2]"].map((id) => steps[id].status),
      [
        "succeeded",
        "succeeded",
        "succeeded",
      ],
    );
    assertEquals(steps["never/unreached"].status, "skipped");
    assertMatch(
      steps["never/unreached"].reason ?? "",
      /job skipped: job `build` failed; needs succeeded/,
    );
    const stdout = String(steps["build/one"].outputs?.stdout);
    assertEquals(stdout, `one\n${runId} build/one build dag\n`);

    const logs = await repo.cli(["workflow", "logs", runId, "--json"]);
    const lines = logs.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert(lines.length >= 7, logs.stdout);
    const seqs = lines.map((l) => Number(l.seq));
    assertEquals(seqs, [...seqs].sort((a, b) => a - b));
    const later = await repo.cli(["workflow", "logs", runId, "--json", "--from", String(seqs[2])]);
    assertEquals(later.stdout.trim().split("\n").length, lines.length - 3);
    const oneStep = await repo.cli(["workflow", "logs", runId, "--step", "build/two"]);
    assertEquals(oneStep.stdout, "[build/two] two\n");

    const list = await repo.cli(["workflow", "list", "--json"]);
    const runs = (list.json as { runs: { id: string; actor: string; status: string }[] }).runs;
    // Locally the actor is the OS account running the command, whatever SWAMP_ACTOR says.
    assertEquals(runs.map((r) => [r.id, r.actor, r.status]), [[
      runId,
      localPrincipal().name,
      "failed",
    ]]);
  });
}

Deno.test("inputs are checked, defaulted and typed before a run is created", async () => {
  const flow = `id: 0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
name: typed
inputs:
  properties:
    count: {type: integer}
    mode: {type: string, enum: [fast, safe], default: safe}
  required: [count]
jobs:
  - name: main
    steps:
${shellStep("show", "echo ok")}`;
  await using repo = await repoWith("file", { "workflows/workflow-typed.yaml": flow });
  const missing = await repo.cli(["workflow", "run", "typed"]);
  assertEquals(missing.code, 3);
  assertMatch(missing.stderr, /error\[invalid_input\]: missing required input `count`/);
  const wrong = await repo.cli([
    "workflow",
    "run",
    "typed",
    "--input",
    "count=x",
    "--input",
    "mode=slow",
  ]);
  assertMatch(
    wrong.stderr,
    /input `count` must be integer.*input `mode` must be one of "fast", "safe"/,
  );
  const none = await repo.cli(["workflow", "list", "--json"]);
  assertEquals((none.json as { runs: unknown[] }).runs, []);
  const ok = await repo.cli(["workflow", "run", "typed", "--input", "count=3"]);
  assertEquals(ok.code, 0, ok.stderr);
});

Deno.test("an invalid workflow is refused with its diagnostics and no run is created", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-bad.yaml": workflowFile(
      "bad",
      shellStep("a", "true", "        dependsOn: [{step: b, condition: {type: always}}]\n"),
    ),
  });
  const result = await repo.cli(["workflow", "run", "bad", "--json"]);
  assertEquals(result.code, 3);
  const error = (result.json as { error: { code: string; diagnostics: { rule: string }[] } }).error;
  assertEquals(error.code, "invalid_workflow");
  assertEquals(error.diagnostics.map((d) => d.rule), ["unknown-dependency"]);
});
