import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  groupAlive,
  repoWith,
  shellStep,
  spawnCli,
  statusJson,
  storeKindsWithPostgres,
  workflowFile,
} from "../helpers/mod.ts";

const stubborn = "trap '' INT TERM; (sleep 300 &); sleep 300";
const env = { SWAMP_CANCEL_GRACE_MS: "300" };

/** Starts a run detached and waits until its first step has a recorded process. */
async function startAndWaitForProcess(
  repo: Awaited<ReturnType<typeof repoWith>>,
  workflow: string,
) {
  const started = await repo.cli(["workflow", "run", workflow, "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const run = await eventually("the step's process", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].process?.pid ? run : undefined;
  });
  return { runId, run, pgid: run.steps[0].process!.pgid };
}

for (
  const store of await storeKindsWithPostgres("kill -9 of the supervisor mid-step, and cancel")
) {
  Deno.test(`[${store}] kill -9 of the supervisor mid-step: abandoned at once, processes gone, lock free`, async () => {
    await using repo = await repoWith(store, {
      "workflows/workflow-slow.yaml": workflowFile(
        "slow",
        shellStep("stubborn", stubborn, "", "db"),
      ),
    });
    const { runId, run, pgid } = await startAndWaitForProcess(repo, "slow");
    assert((await groupAlive(pgid)).length >= 2, "the step and its grandchild run");
    assertEquals(run.locks, ["model:command/shell/db"]);
    Deno.kill(run.owner!.pid, "SIGKILL");
    const after = await eventually("the owner to die", async () => {
      const next = await statusJson(repo, runId);
      return next.status === "abandoned" ? next : undefined;
    });
    assertEquals(after.reason, "owner-process-not-alive");
    assertEquals(after.steps[0].status, "abandoned");
    assertEquals(after.locks, []);
    assertEquals(await groupAlive(pgid), []);
    const logs = await repo.cli(["workflow", "logs", runId]);
    const last = logs.stdout.trim().split("\n").at(-1) ?? "";
    assertMatch(last, /^\[run\] reconcile: marked the run abandoned \(owner-process-not-alive\)/);
    assertMatch(last, /released lock model:command\/shell\/db/);
    const again = await repo.cli(["workflow", "reconcile", "--json"]);
    assertEquals((again.json as { changes: unknown[] }).changes, []);
  });

  Deno.test(`[${store}] cancel stops a step that traps signals and forks, and records the timeline`, async () => {
    await using repo = await repoWith(store, {
      "workflows/workflow-slow.yaml": workflowFile(
        "slow",
        shellStep("stubborn", stubborn) +
          shellStep(
            "after",
            "echo after",
            "        dependsOn: [{step: stubborn, condition: {type: always}}]\n",
          ),
      ),
    });
    const { runId, pgid } = await startAndWaitForProcess(repo, "slow");
    const cancelled = await repo.cli(
      ["workflow", "cancel", runId, "--reason", "test", "--json"],
      env,
    );
    assertEquals(cancelled.code, 0, cancelled.stderr);
    const run =
      (cancelled.json as { run: { status: string; steps: { status: string; reason: string }[] } })
        .run;
    assertEquals(run.status, "cancelled");
    assertEquals(run.steps.map((s) => s.status), [
      "cancelled",
      "cancelled",
    ]);
    assertEquals(run.steps[1].reason, "run cancelled before it started");
    assertEquals(await groupAlive(pgid), []);
    const full = await statusJson(repo, runId);
    assertEquals(full.cancelTimeline.map((s) => s.stage), [
      "requested",
      "interrupted",
      "terminated",
      "killed",
      "confirmed",
    ]);
    const repeat = await repo.cli(["workflow", "cancel", runId]);
    assertEquals(repeat.code, 0);
    assertMatch(repeat.stdout, /already ended cancelled; nothing changed/);
  });
}

Deno.test("the CLI killed by SIGHUP leaves the run going to success", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-short.yaml": workflowFile("short", shellStep("wait", "sleep 1; echo done")),
  });
  const cli = spawnCli(["workflow", "run", "short", "--repo", repo.root], {});
  const reader = cli.stdout.getReader();
  const { value } = await reader.read();
  const runId = new TextDecoder().decode(value).split("\n")[0].trim();
  cli.kill("SIGHUP");
  const status = await cli.status;
  assert(!status.success, "the CLI died of the hang-up");
  await reader.cancel();
  await cli.stderr.cancel();
  const run = await eventually("the run to end", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "running" || run.status === "pending" ? undefined : run;
  });
  assertEquals(run.status, "succeeded");
  assertEquals(run.steps[0].outputs?.stdout, "done\n");
});

Deno.test("two runs acting on the same model take turns on its lock", async () => {
  const definition = `id: 7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d\nname: shared-db\nversion: 1\n`;
  // The first run holds the lock until the test creates a file, so the test decides when it lets go.
  const flow = (name: string, script: string) =>
    `id: ${crypto.randomUUID()}\nname: ${name}\njobs:\n  - name: main\n    steps:\n      - name: migrate\n        task: {type: model_method, modelIdOrName: shared-db, methodName: execute, inputs: {run: ${
      JSON.stringify(script)
    }}}\n`;
  await using repo = await repoWith("sqlite", {
    "models/command/shell/shared-db.yaml": definition,
    "workflows/workflow-first.yaml": flow(
      "first",
      "while [ ! -f release ]; do sleep 0.1; done; echo first > first-done",
    ),
    "workflows/workflow-second.yaml": flow("second", "cat first-done"),
  });
  const first = (await repo.cli(["workflow", "run", "first", "--detach"])).stdout.trim();
  await eventually(
    "first to hold the lock",
    async () => (await statusJson(repo, first)).locks?.length ? true : undefined,
  );
  const second = (await repo.cli(["workflow", "run", "second", "--detach"])).stdout.trim();
  const waiting = await eventually("second to wait", async () => {
    const run = await statusJson(repo, second);
    return run.steps[0].waiting?.lock ? run : undefined;
  });
  assertEquals(waiting.steps[0].waiting, {
    lock: "model:command/shell/shared-db",
    holderRunId: first,
  });
  const list = await repo.cli(["workflow", "list"]);
  assertMatch(
    list.stdout,
    new RegExp(
      `${second.slice(0, 8)}.*lock model:command/shell/shared-db \\(held by run ${
        first.slice(0, 8)
      }\\)`,
    ),
  );
  await Deno.writeTextFile(`${repo.root}/release`, "");
  const done = await Promise.all(
    [first, second].map((id) =>
      eventually(`${id} to end`, async () => {
        const run = await statusJson(repo, id);
        return run.status === "succeeded" ? run : undefined;
      })
    ),
  );
  // The second step read what the first wrote at its very end, so it ran after it.
  assertEquals(done[1].steps[0].outputs?.stdout, "first\n");
});

Deno.test("a step past its timeout fails and leaves nothing running", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-late.yaml": workflowFile(
      "late",
      shellStep("late", "sleep 30 & sleep 30", "        timeout: 1s\n"),
    ),
  });
  const result = await repo.cli(["workflow", "run", "late"], env);
  assertEquals(result.code, 1);
  const run = await statusJson(repo, result.stdout.split("\n")[0]);
  assertEquals(run.steps[0].status, "failed");
  assertEquals(
    run.steps[0].reason,
    "step_timeout: the step ran longer than its timeout of 1s and was stopped " +
      "(interrupted, then killed after the grace period)",
  );
  assertEquals(await groupAlive(run.steps[0].process!.pgid), []);
});

Deno.test("cancel racing the end of a run leaves one consistent state", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("quick", "sleep 0.4")),
  });
  for (let round = 0; round < 3; round++) {
    const runId = (await repo.cli(["workflow", "run", "quick", "--detach"])).stdout.trim();
    await new Promise((resolve) => setTimeout(resolve, 250 + round * 150));
    await repo.cli(["workflow", "cancel", runId], env);
    const run = await statusJson(repo, runId);
    const terminal = ["succeeded", "cancelled"];
    assert(terminal.includes(run.status), run.status);
    const expected = run.status === "succeeded" ? "succeeded" : "cancelled";
    assertEquals(run.steps[0].status, expected);
  }
});

Deno.test("a supervisor whose repository is deleted stops its step and exits", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("stubborn", stubborn)),
  });
  const { run, pgid } = await startAndWaitForProcess(repo, "slow");
  const owner = run.owner!.pid;
  await Deno.remove(`${repo.root}/.swamp`, { recursive: true });
  await eventually("the supervisor to exit", () => {
    try {
      Deno.kill(owner, "SIGCONT");
      return Promise.resolve(undefined);
    } catch {
      return Promise.resolve(true);
    }
  }, 60_000);
  assertEquals(await groupAlive(pgid), [], "the step's processes were stopped first");
});
