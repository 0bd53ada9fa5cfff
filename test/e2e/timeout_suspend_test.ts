import {
  assert,
  assertEquals,
  gateStep,
  repoWith,
  runIdOf,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

// A workflow `timeout` counts running time from each start or resume: time a
// run spends suspended at a gate is not counted (docs/design/0017).

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;

Deno.test("time suspended at a gate does not count toward the workflow timeout; the resumed part does", async () => {
  const timeoutS = 6;
  await using repo = await repoWith("file", {
    "workflows/workflow-paced.yaml": workflowFile(
      "paced",
      shellStep("first", "true") + gateStep("confirm", after("first")) +
        shellStep("then", "sleep 1; echo done", after("confirm")),
      `timeout: ${timeoutS}s\n`,
    ),
    "workflows/workflow-overrun.yaml": workflowFile(
      "overrun",
      shellStep("first", "true") + gateStep("confirm", after("first")) +
        shellStep("then", "sleep 300", after("confirm")),
      `timeout: ${timeoutS}s\n`,
    ),
  });
  const paced = await repo.cli(["workflow", "run", "paced"]);
  assertEquals(paced.code, 12, paced.stderr); // suspended at the gate
  const overrun = await repo.cli(["workflow", "run", "overrun"]);
  assertEquals(overrun.code, 12, overrun.stderr);
  // Suspended for longer than the whole timeout.
  await new Promise((resolve) => setTimeout(resolve, (timeoutS + 1) * 1000));

  for (const result of [paced, overrun]) {
    const runId = runIdOf(result);
    assertEquals((await repo.cli(["workflow", "approve", runId])).code, 0);
    const resumed = await repo.cli(["workflow", "resume", runId, "--detach"]);
    assertEquals(resumed.code, 0, resumed.stderr);
  }

  const pacedId = runIdOf(paced);
  assertEquals((await repo.cli(["workflow", "wait", pacedId])).code, 0);
  const done = await statusJson(repo, pacedId);
  assertEquals(done.status, "succeeded");
  // The run as a whole lasted longer than its timeout: only the suspended time kept it alive.
  const lasted = Date.parse(done.endTime ?? "") - Date.parse(done.createTime ?? "");
  assert(lasted > timeoutS * 1000, `the run lasted only ${lasted} ms`);

  // The resumed part is still bounded: a step that outlives the timeout after the resume is stopped.
  const overrunId = runIdOf(overrun);
  assertEquals((await repo.cli(["workflow", "wait", overrunId])).code, 1);
  const stopped = await statusJson(repo, overrunId);
  assertEquals(stopped.status, "failed");
  assert(
    (stopped.reason ?? "").startsWith(
      `workflow_timeout: the run ran longer than its timeout of ${timeoutS}s`,
    ),
    stopped.reason,
  );
  assertEquals(stopped.steps.map((s: { id: string; status: string }) => [s.id, s.status]), [
    ["main/first", "succeeded"],
    ["main/confirm", "succeeded"],
    ["main/then", "cancelled"],
  ]);
});
