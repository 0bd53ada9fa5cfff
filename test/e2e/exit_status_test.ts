// Exit statuses that say how a run stands (issue 17): `workflow run`,
// `logs --follow`, `wait` and `status --exit-status` give 0 succeeded,
// 1 failed, 10 cancelled, 11 abandoned, 12 suspended, 13 not ended yet, and
// `wait --timeout` 6 when the run outlasts it.
import {
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  repoWith,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

const files = {
  "workflows/workflow-ok.yaml": workflowFile("ok", shellStep("a", "echo fine")),
  "workflows/workflow-bad.yaml": workflowFile("bad", shellStep("a", "exit 3")),
  "workflows/workflow-gated.yaml": workflowFile("gated", gateStep("gate")),
  "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("a", "sleep 300")),
};

Deno.test("run, logs --follow, wait and status --exit-status exit with how the run ended", async () => {
  await using repo = await repoWith("file", files);
  const ok = await repo.cli(["workflow", "run", "ok"]);
  assertEquals(ok.code, 0, ok.stderr);
  const okId = ok.stdout.split("\n")[0];
  assertEquals((await repo.cli(["workflow", "wait", okId])).code, 0);
  assertEquals((await repo.cli(["workflow", "status", okId, "--exit-status"])).code, 0);
  assertEquals((await repo.cli(["workflow", "status", okId])).code, 0);

  const bad = await repo.cli(["workflow", "run", "bad"]);
  assertEquals(bad.code, 1, bad.stderr);
  const badId = bad.stdout.split("\n")[0];
  const followed = await repo.cli(["workflow", "logs", badId, "--follow"]);
  assertEquals(followed.code, 1, followed.stderr);
  assertMatch(followed.stderr, new RegExp(`run ${badId} failed`));
  assertEquals((await repo.cli(["workflow", "logs", badId])).code, 0, "without --follow: 0");
  assertEquals((await repo.cli(["workflow", "wait", badId, "--json"])).code, 1);
  assertEquals((await repo.cli(["workflow", "status", badId, "--exit-status"])).code, 1);

  const gated = await repo.cli(["workflow", "run", "gated"]);
  assertEquals(gated.code, 12, gated.stderr);
  const gatedId = gated.stdout.split("\n")[0];
  assertEquals((await repo.cli(["workflow", "wait", gatedId])).code, 12);
  assertEquals((await repo.cli(["workflow", "status", gatedId, "--exit-status"])).code, 12);
});

Deno.test("a run not ended: 13 from status, 6 from wait --timeout; then 10 once cancelled, 11 once abandoned", async () => {
  await using repo = await repoWith("file", files);
  const start = async () => {
    const started = await repo.cli(["workflow", "run", "slow", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = started.stdout.trim().split("\n")[0];
    return await eventually("the step running", async () => {
      const run = await statusJson(repo, runId);
      return run.steps[0].process?.pid ? run : undefined;
    });
  };
  const first = await start();
  assertEquals((await repo.cli(["workflow", "status", first.id, "--exit-status"])).code, 13);
  const late = await repo.cli(["workflow", "wait", first.id, "--timeout", "1s"]);
  assertEquals(late.code, 6, late.stderr);
  assertMatch(late.stderr, /is still running after 1s/);
  const waiting = repo.cli(["workflow", "wait", first.id]);
  assertEquals((await repo.cli(["workflow", "cancel", first.id])).code, 0);
  assertEquals((await waiting).code, 10);

  const second = await start();
  Deno.kill(second.owner!.pid, "SIGKILL");
  assertEquals((await repo.cli(["workflow", "wait", second.id])).code, 11);
});
