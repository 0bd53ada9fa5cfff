import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  groupAlive,
  repoWith,
  runIdOf,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

// Step `retry:` and the step and workflow `timeout:` with real processes
// (docs/design/0017-step-retry-and-timeouts.md).

const env = { SWAMP_CANCEL_GRACE_MS: "300" };

/** A step that fails until it has run more than `failures` times, counting in a file. */
function flaky(failures: number): string {
  return `n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; ` +
    `echo "try $n"; [ $n -gt ${failures} ]`;
}

async function count(root: string): Promise<string> {
  return (await Deno.readTextFile(`${root}/count`)).trim();
}

Deno.test("a flaky step with retry succeeds on its third attempt", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-flaky.yaml": workflowFile(
      "flaky",
      shellStep("flaky", flaky(2), "        retry: {attempts: 3}\n"),
    ),
  });
  const result = await repo.cli(["workflow", "run", "flaky"], env);
  assertEquals(result.code, 0, result.stderr);
  const runId = runIdOf(result);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "succeeded");
  assertEquals(run.steps[0].status, "succeeded");
  assertEquals(run.steps[0].retry, { attempt: 3, attempts: 3 });
  assertEquals(run.steps[0].attempt, 3);
  assertEquals(await count(repo.root), "3");
  const logs = await repo.cli(["workflow", "logs", runId]);
  assertMatch(logs.stdout, /attempt 1 of 3 failed \(exited with status 1\); attempt 2 starts now/);
  assertMatch(logs.stdout, /attempt 2 of 3 failed/);
  const status = await repo.cli(["workflow", "status", runId]);
  assertMatch(status.stdout, /main\/flaky\s+succeeded.*attempt 3 of 3/);
  assertMatch(result.stderr + result.stdout, /main\/flaky running {2}attempt 3 of 3/);
});

Deno.test("a step that fails on every attempt ends failed after the last one", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-broken.yaml": workflowFile(
      "broken",
      shellStep(
        "broken",
        flaky(10),
        "        retry: {attempts: 3, backoff: {initial: 100ms, factor: 2}}\n",
      ),
    ),
  });
  const result = await repo.cli(["workflow", "run", "broken"], env);
  assertEquals(result.code, 1, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  assertEquals(run.status, "failed");
  assertEquals(run.steps[0].status, "failed");
  assertEquals(run.steps[0].reason, "exited with status 1");
  assertEquals(run.steps[0].retry, { attempt: 3, attempts: 3 });
  assertEquals(await count(repo.root), "3");
  const logs = await repo.cli(["workflow", "logs", runIdOf(result)]);
  assertMatch(
    logs.stdout,
    /attempt 1 of 3 failed \(exited with status 1\); attempt 2 starts in 100ms/,
  );
  assertMatch(
    logs.stdout,
    /attempt 2 of 3 failed \(exited with status 1\); attempt 3 starts in 200ms/,
  );
});

Deno.test("cancel during a retry backoff cancels at once, and status shows the wait until then", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-patient.yaml": workflowFile(
      "patient",
      shellStep("patient", flaky(10), "        retry: {attempts: 3, backoff: 1h}\n"),
    ),
  });
  const started = await repo.cli(["workflow", "run", "patient", "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  const waiting = await eventually("the step to wait for its backoff", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].waiting?.retry ? run : undefined;
  });
  const step = waiting.steps[0];
  assertEquals(step.status, "pending");
  assertEquals(step.retry?.attempt, 2);
  assertEquals(step.retry?.nextTime, step.waiting?.retry);
  assertMatch(
    step.reason ?? "",
    /^attempt 1 of 3 failed \(exited with status 1\); attempt 2 starts in 1h$/,
  );
  const shown = await repo.cli(["workflow", "status", runId]);
  assertMatch(shown.stdout, /attempt 2 of 3\s+waiting on its retry backoff, next attempt at /);
  const cancelled = await repo.cli(["workflow", "cancel", runId, "--json"], env);
  assertEquals(cancelled.code, 0, cancelled.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "cancelled");
  assertEquals(run.steps[0].status, "cancelled");
  assertEquals(run.steps[0].waiting, undefined);
  assertEquals(await count(repo.root), "1");
});

Deno.test("a step over its timeout is stopped, fails with step_timeout, and leaves no process", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-slow.yaml": workflowFile(
      "slow",
      shellStep("slow", "(sleep 300 &); sleep 300", "        timeout: 1s\n"),
    ),
  });
  const started = await repo.cli(["workflow", "run", "slow", "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  const running = await eventually("the step's process", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].process?.pgid ? run : undefined;
  });
  const pgid = running.steps[0].process!.pgid;
  const waited = await repo.cli(["workflow", "wait", runId]);
  assertEquals(waited.code, 1, waited.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "failed");
  assertEquals(run.steps[0].status, "failed");
  assertMatch(
    run.steps[0].reason ?? "",
    /^step_timeout: the step ran longer than its timeout of 1s/,
  );
  assertEquals(await groupAlive(pgid), []);
});

Deno.test("a timed-out attempt is retried when retry allows it", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-slowfirst.yaml": workflowFile(
      "slowfirst",
      shellStep(
        "slowfirst",
        `${flaky(1)} || exec sleep 300`,
        "        timeout: 1s\n        retry: {attempts: 2}\n",
      ),
    ),
  });
  const result = await repo.cli(["workflow", "run", "slowfirst"], env);
  assertEquals(result.code, 0, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  assertEquals(run.steps[0].retry, { attempt: 2, attempts: 2 });
  const logs = await repo.cli(["workflow", "logs", runIdOf(result)]);
  assertMatch(logs.stdout, /attempt 1 of 2 failed \(step_timeout: /);
});

Deno.test("a workflow over its timeout is stopped with the cancel timeline and fails saying so", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-long.yaml": workflowFile(
      "long",
      shellStep("long", "(sleep 300 &); sleep 300"),
      "timeout: 1s\n",
    ),
  });
  const started = await repo.cli(["workflow", "run", "long", "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  const running = await eventually("the step's process", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].process?.pgid ? run : undefined;
  });
  const waited = await repo.cli(["workflow", "wait", runId]);
  assertEquals(waited.code, 1, waited.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "failed");
  assertMatch(run.reason ?? "", /^workflow_timeout: the run ran longer than its timeout of 1s/);
  assertEquals(run.steps[0].status, "cancelled");
  assertEquals(run.cancelTimeline[0].stage, "requested");
  assert(run.cancelTimeline.some((s) => s.stage === "confirmed"), "the stop was confirmed");
  assertEquals(await groupAlive(running.steps[0].process!.pgid), []);
});

Deno.test("kill -9 of the supervisor during a backoff: the reconciled step says it was between attempts", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-orphan.yaml": workflowFile(
      "orphan",
      shellStep("orphan", flaky(10), "        retry: {attempts: 3, backoff: 1h}\n"),
    ),
  });
  const started = await repo.cli(["workflow", "run", "orphan", "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  const waiting = await eventually("the step to wait for its backoff", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].waiting?.retry ? run : undefined;
  });
  Deno.kill(waiting.owner!.pid, "SIGKILL");
  const run = await eventually("the run to be reconciled", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "abandoned" ? run : undefined;
  });
  const step = run.steps[0];
  assertEquals(step.status, "abandoned");
  assertEquals(step.retry?.attempt, 2);
  assertMatch(
    step.reason ?? "",
    /^owner-process-not-alive while the step waited to retry: attempt 1 of 3 failed \(exited with status 1\)/,
  );
  assertEquals(await count(repo.root), "1");
});
