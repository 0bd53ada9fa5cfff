import {
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  shellStep,
  spawnCli,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

Deno.test("Ctrl-C in a following `workflow run` cancels the run and shows it through", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("wait", "sleep 300")),
  });
  const cli = spawnCli(["workflow", "run", "slow", "--repo", repo.root], {
    SWAMP_CANCEL_GRACE_MS: "300",
  });
  const output = cli.output();
  const runId = await eventually("the run to start its step", async () => {
    const list = (await repo.cli(["workflow", "list", "--json"])).json as {
      runs: { id: string }[];
    };
    if (list.runs.length === 0) return undefined;
    const run = await statusJson(repo, list.runs[0].id);
    return run.steps[0].process?.pid ? run.id : undefined;
  });
  cli.kill("SIGINT");
  const result = await output;
  const stdout = new TextDecoder().decode(result.stdout);
  const stderr = new TextDecoder().decode(result.stderr);
  assertEquals(stdout.split("\n")[0], runId);
  assertEquals(result.code, 10, stderr); // run_cancelled
  assertMatch(stderr, /cancelling… \(Ctrl-C again to stop watching; the cancel goes on\)/);
  assertMatch(stderr, /run cancelled/);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "cancelled");
  assertEquals(run.cancelTimeline[0].stage, "requested");
});
