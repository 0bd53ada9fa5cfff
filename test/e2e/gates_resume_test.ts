import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  repoWith,
  runCli,
  runIdOf,
  shellStep,
  statusJson,
  stepStatuses,
  workflowFile,
} from "../helpers/mod.ts";

// Resuming: races, re-entry of failed runs, fan-out gates, nested gates, and
// the pinned definition.

const after = (step: string, type = "succeeded") =>
  `        dependsOn: [{step: ${step}, condition: {type: ${type}}}]\n`;

Deno.test("two resumes at once: exactly one wins, the other is refused", async () => {
  const file = workflowFile(
    "race",
    gateStep("confirm") + shellStep("work", "echo worked >> work-count", after("confirm")),
  );
  await using repo = await repoWith("file", { "workflows/workflow-race.yaml": file });
  const runId = runIdOf(await repo.cli(["workflow", "run", "race"]));
  assertEquals((await repo.cli(["workflow", "approve", runId])).code, 0);

  const [a, b] = await Promise.all([
    repo.cli(["workflow", "resume", runId, "--detach"]),
    repo.cli(["workflow", "resume", runId, "--detach"]),
  ]);
  const codes = [a.code, b.code].sort();
  assertEquals(codes, [0, 5], `${a.stderr}\n${b.stderr}`);
  const loser = a.code === 5 ? a : b;
  // Refused against the winner's write: while its attempt runs, or after it ended (a resume now
  // returns once its supervisor claimed the run, and this run is one short step).
  assertMatch(
    loser.stderr,
    /error\[run_state\]: run .* is (pending|running): it was resumed already|error\[run_terminal\]: run .* ended succeeded and cannot be resumed/,
  );

  const done = await eventually("the resumed run to end", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "succeeded" ? run : undefined;
  });
  assertEquals(done.attempt, 2);
  assertEquals(await Deno.readTextFile(`${repo.root}/work-count`), "worked\n");
});

Deno.test("--from re-enters a failed run at a step: it and what is downstream run again, nothing else", async () => {
  const file = workflowFile(
    "flaky",
    shellStep("prepare", "echo prepared >> prepare-count") +
      shellStep("flaky", "test -f fixed || { echo not yet >&2; exit 1; }", after("prepare")) +
      shellStep("after", "echo after", after("flaky")) +
      shellStep("cleanup", "echo cleanup >> cleanup-count", after("flaky", "failed")),
  );
  await using repo = await repoWith("file", { "workflows/workflow-flaky.yaml": file });
  const first = await repo.cli(["workflow", "run", "flaky"]);
  assertEquals(first.code, 1, first.stderr);
  const runId = runIdOf(first);
  assertEquals(stepStatuses(await statusJson(repo, runId)), {
    "main/prepare": "SUCCEEDED",
    "main/flaky": "FAILED",
    "main/after": "SKIPPED",
    "main/cleanup": "SUCCEEDED",
  });

  const noFrom = await repo.cli(["workflow", "resume", runId]);
  assertEquals(noFrom.code, 5, noFrom.stderr);
  assertMatch(noFrom.stderr, /failed; say where to re-enter it with --from/);
  assertMatch(noFrom.stderr, /failed steps: main\/flaky/);

  await Deno.writeTextFile(`${repo.root}/fixed`, "");
  const resumed = await repo.cli(["workflow", "resume", runId, "--from", "flaky"]);
  assertEquals(resumed.code, 0, resumed.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "succeeded");
  assertEquals(run.attempt, 2);
  assertEquals(stepStatuses(run), {
    "main/prepare": "SUCCEEDED",
    "main/flaky": "SUCCEEDED",
    "main/after": "SUCCEEDED",
    // Downstream of flaky, and its condition no longer holds.
    "main/cleanup": "SKIPPED",
  });
  assertEquals(await Deno.readTextFile(`${repo.root}/prepare-count`), "prepared\n");
  assertEquals(run.steps.find((s) => s.id === "main/prepare")!.attempt, 1);
  assertEquals(run.steps.find((s) => s.id === "main/flaky")!.attempt, 2);
});

Deno.test("a forEach over a gate makes one gate per item, each decided on its own", async () => {
  const file = workflowFile(
    "fan",
    `      - name: sign-off
        forEach: {item: region, in: [eu, us]}
        task: {type: manual_approval, prompt: "Ship to \${{ self.region }}?"}
` + shellStep("ship", "echo shipped", after("sign-off")),
  );
  await using repo = await repoWith("file", { "workflows/workflow-fan.yaml": file });
  const runId = runIdOf(await repo.cli(["workflow", "run", "fan"]));
  const listed = await repo.cli(["workflow", "approvals", "--json"]);
  const gates = (listed.json as { approvals: { stepId: string; gate: { prompt: string } }[] })
    .approvals;
  assertEquals(gates.map((g) => [g.stepId, g.gate.prompt]), [
    ["main/sign-off[0]", "Ship to eu?"],
    ["main/sign-off[1]", "Ship to us?"],
  ]);
  const unnamed = await repo.cli(["workflow", "approve", runId]);
  assertEquals(unnamed.code, 4, unnamed.stderr);
  assertMatch(unnamed.stderr, /2 gates waiting: main\/sign-off\[0\], main\/sign-off\[1\]/);

  assertEquals(
    (await repo.cli(["workflow", "approve", runId, "--step", "main/sign-off[1]"])).code,
    0,
  );
  const partial = await repo.cli(["workflow", "resume", runId]);
  assertEquals(partial.code, 5, partial.stderr);
  assertMatch(partial.stderr, /still waits for approval of main\/sign-off\[0\]/);

  assertEquals(
    (await repo.cli(["workflow", "approve", runId, "--step", "main/sign-off[0]"])).code,
    0,
  );
  const resumed = await repo.cli(["workflow", "resume", runId]);
  assertEquals(resumed.code, 0, resumed.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(stepStatuses(run), {
    "main/sign-off": "SUCCEEDED",
    "main/sign-off[0]": "SUCCEEDED",
    "main/sign-off[1]": "SUCCEEDED",
    "main/ship": "SUCCEEDED",
  });
});

Deno.test("a gate inside a nested workflow suspends its parent; approving and resuming finishes both", async () => {
  const child = workflowFile(
    "child",
    gateStep("inner") + shellStep("after-inner", "echo inner done", after("inner")),
  );
  const parent = workflowFile(
    "parent",
    `      - name: nested
        task: {type: workflow, workflowIdOrName: child}
` + shellStep("finish", "echo finished", after("nested")),
  );
  await using repo = await repoWith("file", {
    "workflows/workflow-child.yaml": child,
    "workflows/workflow-parent.yaml": parent,
  });
  const parentId = runIdOf(await repo.cli(["workflow", "run", "parent"]));
  const suspended = await statusJson(repo, parentId);
  assertEquals(suspended.status, "suspended");
  const childId = suspended.steps.find((s) => s.id === "main/nested")!.childRunId!;
  assertMatch(childId, /^[0-9a-f-]{36}$/);

  const listed = await repo.cli(["workflow", "approvals", "--json"]);
  const approvals = (listed.json as { approvals: { runId: string; stepId: string }[] }).approvals;
  assertEquals(approvals.map((a) => [a.runId, a.stepId]), [[childId, "main/inner"]]);
  const early = await repo.cli(["workflow", "resume", parentId]);
  assertEquals(early.code, 5, early.stderr);
  assertMatch(early.stderr, /approval_pending.*main\/inner/);

  assertEquals((await repo.cli(["workflow", "approve", childId])).code, 0);
  // Resuming the nested run resumes the run it belongs to.
  const resumed = await repo.cli(["workflow", "resume", childId]);
  assertEquals(resumed.code, 0, resumed.stderr);
  assertEquals(runIdOf(resumed), parentId);
  const [doneParent, doneChild] = [
    await statusJson(repo, parentId),
    await statusJson(repo, childId),
  ];
  assertEquals(doneParent.status, "succeeded");
  assertEquals(doneChild.status, "succeeded");
  assertEquals(doneChild.parentRunId, parentId);
  assertEquals(stepStatuses(doneChild)["main/after-inner"], "SUCCEEDED");
  assertEquals(stepStatuses(doneParent)["main/finish"], "SUCCEEDED");
});

Deno.test("a suspended run holds no locks, keeps its pinned definition, and can be cancelled", async () => {
  const file = (message: string) =>
    workflowFile(
      "pinned",
      gateStep("confirm") + shellStep("say", `echo ${message}`, after("confirm")),
      "locks: [deploy-slot]\n",
    );
  await using repo = await repoWith("file", { "workflows/workflow-pinned.yaml": file("original") });
  const runId = runIdOf(await repo.cli(["workflow", "run", "pinned"]));
  const suspended = await statusJson(repo, runId);
  assertEquals(suspended.locks ?? [], []);
  // Another run can take the lock while the first waits for a person.
  const second = runIdOf(await repo.cli(["workflow", "run", "pinned"]));
  assertEquals((await statusJson(repo, second)).status, "suspended");
  const cancelled = await repo.cli(["workflow", "cancel", second, "--json"]);
  assertEquals(cancelled.code, 0, cancelled.stderr);
  const gone = await statusJson(repo, second);
  assertEquals(gone.status, "cancelled");
  assertEquals(stepStatuses(gone)["main/confirm"], "CANCELLED");

  await Deno.writeTextFile(`${repo.root}/workflows/workflow-pinned.yaml`, file("edited"));
  const status = await repo.cli(["workflow", "status", runId, "--json"]);
  assertEquals((status.json as { definitionChanged: boolean }).definitionChanged, true);
  const text = await runCli(["workflow", "status", runId, "--repo", repo.root]);
  assertMatch(text.stdout, /file changed since the run started/);

  assertEquals((await repo.cli(["workflow", "approve", runId])).code, 0);
  const resumed = await repo.cli(["workflow", "resume", runId]);
  assertEquals(resumed.code, 0, resumed.stderr);
  assertMatch(resumed.stdout, /^\[main\/say\] original$/m);
  assert(!resumed.stdout.includes("edited"), "the resume ran the edited file");
});

Deno.test("rejecting a nested gate fails the nested run and its suspended parent at once", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-child.yaml": workflowFile("child", gateStep("inner")),
    "workflows/workflow-parent.yaml": workflowFile(
      "parent",
      `      - name: nested
        task: {type: workflow, workflowIdOrName: child}
` + shellStep("finish", "echo finished", after("nested")),
    ),
  });
  const parentId = runIdOf(await repo.cli(["workflow", "run", "parent"]));
  const childId = (await statusJson(repo, parentId)).steps[0].childRunId!;
  const rejected = await repo.cli(["workflow", "reject", childId, "--reason", "not today"]);
  assertEquals(rejected.code, 0, rejected.stderr);
  const [parent, child] = [await statusJson(repo, parentId), await statusJson(repo, childId)];
  assertEquals(child.status, "failed");
  assertEquals(parent.status, "failed");
  assertEquals(stepStatuses(parent), { "main/nested": "FAILED", "main/finish": "SKIPPED" });
  assertMatch(
    parent.reason ?? "",
    /nested run .* failed: gate main\/inner rejected by .*: not today/,
  );
});
