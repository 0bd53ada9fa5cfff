// Followers of a run in a file store are woken by the kernel's file watch on
// the run's directory when its status changes (RunStore.watchRun: a new
// summary.json), not only by their poll: with the poll set to ten minutes,
// `workflow run` and `logs --follow` still end as soon as the run does.
// Without the watch each would wait for its poll and be killed at the
// command's time limit, failing the test (shown so).
import { assertEquals, assertMatch, repoWith, shellStep, workflowFile } from "../helpers/mod.ts";

const files = {
  "workflows/workflow-two.yaml": workflowFile(
    "two",
    shellStep("a", "sleep 1; echo first") + shellStep(
      "b",
      "echo second",
      "        dependsOn: [{step: a, condition: {type: succeeded}}]\n",
    ),
  ),
};
const pollNever = { SWAMP_FOLLOW_POLL_MS: "600000" };
const limit = { timeoutMs: 90_000 };

Deno.test("a followed run and logs --follow end with the run though their poll is ten minutes", async () => {
  await using repo = await repoWith("file", files);
  const run = await repo.cli(["workflow", "run", "two"], pollNever, limit);
  assertEquals(run.code, 0, run.stderr);
  assertMatch(run.stdout, /second/);

  const detached = await repo.cli(["workflow", "run", "two", "--detach"]);
  assertEquals(detached.code, 0, detached.stderr);
  const runId = detached.stdout.split("\n")[0];
  const logs = await repo.cli(["workflow", "logs", runId, "--follow"], pollNever, limit);
  assertEquals(logs.code, 0, logs.stderr);
  assertMatch(logs.stdout, /first[\s\S]*second/);
  assertMatch(logs.stderr, new RegExp(`run ${runId} succeeded`));
});
