import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  mintToken,
  repoWith,
  runIdOf,
  shellStep,
  startServe,
  statusJson,
  stepStatuses,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

// Approval gates driven as a user would, each decision from its own process.
// Who decides comes from a credential: decisions by different people go
// through a real `swamp serve` with one API token each.

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;

/** build (counts its runs in a file) → confirm (gate) → deploy (prints an input and the attempt). */
function gated(gate = "") {
  return workflowFile(
    "gated",
    shellStep("build", "echo built >> build-count; echo building") +
      gateStep("confirm", after("build"), gate) +
      shellStep(
        "deploy",
        'echo "deploying to ${{ inputs.env }} attempt $SWAMP_RUN_ATTEMPT"',
        after("confirm"),
      ),
    "inputs:\n  properties:\n    env: {type: string, default: staging}\n",
  );
}

for (const store of storeKinds) {
  Deno.test(`[${store}] run to a gate, approve from a second process, resume from a third: nothing runs twice`, async () => {
    await using repo = await repoWith(store, { "workflows/workflow-gated.yaml": gated() });
    const ada = await mintToken(repo.root, "ada", "operator");
    const grace = await mintToken(repo.root, "grace", "approver");
    await using server = await startServe(repo.root);
    const started = await server.cli(["workflow", "run", "gated"], ada);
    assertEquals(started.code, 12, started.stderr); // run_suspended
    const runId = runIdOf(started);
    assertMatch(started.stderr, /run .* suspended: waiting for approval: main\/confirm/);

    const suspended = await statusJson(repo, runId);
    assertEquals(suspended.status, "suspended");
    assertEquals(stepStatuses(suspended), {
      "main/build": "SUCCEEDED",
      "main/confirm": "WAITING_APPROVAL",
      "main/deploy": "PENDING",
    });
    assertEquals(suspended.steps[1].approval?.prompt, "Approve confirm?");
    assertEquals(suspended.locks ?? [], []);
    // The job is not shown running while nothing of it runs, and has not ended.
    assertEquals(suspended.jobs?.map((j) => [j.name, j.status, j.endTime]), [
      ["main", "waiting_approval", undefined],
    ]);

    const listed = await repo.cli(["workflow", "approvals", "--json"]);
    const approvals = (listed.json as { approvals: { runId: string; stepId: string }[] }).approvals;
    assertEquals(approvals.map((a) => [a.runId, a.stepId]), [[runId, "main/confirm"]]);

    // Resume is refused while the gate waits, and says which gate.
    const early = await repo.cli(["workflow", "resume", runId]);
    assertEquals(early.code, 5, early.stderr);
    assertMatch(early.stderr, /error\[approval_pending\]: .*main\/confirm/);

    const approve = await server.cli([
      "workflow",
      "approve",
      runId.slice(0, 8),
      "--reason",
      "canary is clean",
      "--json",
    ], grace);
    assertEquals(approve.code, 0, approve.stderr);
    const decided = approve.json as { stepId: string; run: { status: string } };
    assertEquals(decided.stepId, "main/confirm");
    assertEquals(decided.run.status, "suspended");

    const resumed = await repo.cli(["workflow", "resume", runId, "--input", "env=prod"]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertMatch(resumed.stdout, /^\[main\/deploy\] deploying to prod attempt 2$/m);
    assert(!resumed.stdout.includes("[main/build]"), "the resume showed the first attempt's lines");

    const done = await statusJson(repo, runId);
    assertEquals(done.status, "succeeded");
    assertEquals(done.jobs?.map((j) => j.status), ["succeeded"]);
    assertEquals(done.attempt, 2);
    assertEquals([done.actor, done.actorKind], ["ada", "token"]);
    const gate = done.steps.find((s) => s.id === "main/confirm")!;
    assertEquals(gate.approval?.decision?.approved, true);
    assertEquals(gate.approval?.decision?.actor, "grace");
    assertEquals(gate.approval?.decision?.actorKind, "token");
    assertEquals(gate.approval?.decision?.reason, "canary is clean");
    // The build step ran once: its side effect is in the file exactly once.
    assertEquals(await Deno.readTextFile(`${repo.root}/build-count`), "built\n");
    // Only the name of the resume input is recorded, never its value.
    const events = await repo.cli(["workflow", "status", runId, "--json"]);
    assert(
      !JSON.stringify(events.json).includes('"prod"'),
      "the resume input's value was recorded",
    );
  });
}

Deno.test("reject fails the gate and the run at once; what it had not reached is skipped", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-gated.yaml": gated() });
  const grace = await mintToken(repo.root, "grace", "approver");
  await using server = await startServe(repo.root);
  const runId = runIdOf(await repo.cli(["workflow", "run", "gated"]));
  const rejected = await server.cli([
    "workflow",
    "reject",
    runId,
    "--step",
    "confirm",
    "--reason",
    "error rate too high",
  ], grace);
  assertEquals(rejected.code, 0, rejected.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "failed");
  assertMatch(run.reason ?? "", /gate main\/confirm rejected by grace: error rate too high/);
  assertEquals(stepStatuses(run), {
    "main/build": "SUCCEEDED",
    "main/confirm": "FAILED",
    "main/deploy": "SKIPPED",
  });
  assertEquals(run.steps[1].approval?.decision?.approved, false);
  assertEquals(run.jobs?.[0].status, "failed");
  const listed = await repo.cli(["workflow", "approvals", "--json"]);
  assertEquals((listed.json as { approvals: unknown[] }).approvals, []);
  // A second decision finds nothing to decide.
  const again = await repo.cli(["workflow", "approve", runId, "--step", "confirm"]);
  assertEquals(again.code, 5, again.stderr);
  assertMatch(again.stderr, /already rejected by grace/);
});

Deno.test("only listed approvers decide, and a gate can forbid the run's starter", async () => {
  const gate = "          approvers: [ada, grace]\n          allowRunActor: false\n";
  await using repo = await repoWith("file", { "workflows/workflow-gated.yaml": gated(gate) });
  const [ada, grace, mallory] = await Promise.all(
    ["ada", "grace", "mallory"].map((name) => mintToken(repo.root, name, "approver")),
  );
  await using server = await startServe(repo.root);
  const runId = runIdOf(await server.cli(["workflow", "run", "gated"], ada));

  const stranger = await server.cli(["workflow", "approve", runId], mallory);
  assertEquals(stranger.code, 5, stranger.stderr);
  assertMatch(
    stranger.stderr,
    /error\[not_approver\]: mallory may not decide gate main\/confirm; its approvers are ada, grace/,
  );

  const starter = await server.cli(["workflow", "approve", runId], ada);
  assertEquals(starter.code, 5, starter.stderr);
  assertMatch(starter.stderr, /error\[not_approver\]: ada started run .* may not decide/);

  const before = await statusJson(repo, runId);
  assertEquals(before.steps[1].approval?.decision, undefined);
  assertEquals(before.steps[1].approval?.approvers, ["ada", "grace"]);

  // A name the client asserts counts for nothing: the flag is refused outright.
  const asserted = await repo.cli(["workflow", "approve", runId, "--actor", "grace"]);
  assertEquals(asserted.code, 2, asserted.stderr);
  assertMatch(asserted.stderr, /--actor is no longer accepted/);
  // Nor does SWAMP_ACTOR: the local OS user is not an approver of this gate.
  const local = await repo.cli(["workflow", "approve", runId], { SWAMP_ACTOR: "grace" });
  assertEquals(local.code, 5, local.stderr);
  assertMatch(local.stderr, /error\[not_approver\]: .* may not decide gate main\/confirm/);
  assert(!/^grace may not/.test(local.stderr.replace(/^error\[not_approver\]: /, "")));

  const allowed = await server.cli(["workflow", "approve", runId], grace);
  assertEquals(allowed.code, 0, allowed.stderr);
});

const oneSecondGate = "          timeout: 1s\n";

/** Starts the gated workflow and waits until its gate's expiry time has passed. */
async function runPastExpiry(repo: Awaited<ReturnType<typeof repoWith>>): Promise<string> {
  const runId = runIdOf(await repo.cli(["workflow", "run", "gated"]));
  const waiting = await statusJson(repo, runId);
  const expires = Date.parse(waiting.steps[1].approval!.expiresTime!);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires - Date.now()) + 200));
  return runId;
}

Deno.test("an expired gate has already taken its on-timeout action: a late approval is refused", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-gated.yaml": gated(oneSecondGate),
  });
  // No process is alive for this run now; wait out the timeout.
  const runId = await runPastExpiry(repo);

  const late = await repo.cli(["workflow", "approve", runId]);
  assertEquals(late.code, 5, late.stderr);
  assertMatch(late.stderr, /error\[approval_expired\]: gate main\/confirm expired at \d{4}-/);

  const run = await statusJson(repo, runId);
  assertEquals(run.status, "failed");
  const decision = run.steps[1].approval?.decision;
  assertEquals([decision?.approved, decision?.actor], [false, "system"]);
  assertMatch(decision?.reason ?? "", /^timed out at /);
  assertEquals(stepStatuses(run)["main/deploy"], "SKIPPED");
});

Deno.test("onTimeout: approve lets the run go on after the timeout, applied by reconcile", async () => {
  const gate = "          timeout: 1s\n          onTimeout: approve\n";
  await using repo = await repoWith("file", { "workflows/workflow-gated.yaml": gated(gate) });
  const runId = runIdOf(await repo.cli(["workflow", "run", "gated"]));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const reconciled = await repo.cli(["workflow", "reconcile", "--json"]);
  assertEquals(reconciled.code, 0, reconciled.stderr);
  const changes = (reconciled.json as { changes: { runId: string; reason: string }[] }).changes;
  assertEquals(changes.map((c) => [c.runId, c.reason]), [[runId, "approval-timed-out"]]);
  const done = await eventually("the run to finish after its gate timed out", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "succeeded" ? run : undefined;
  });
  assertEquals(done.steps[1].approval?.decision?.actor, "system");
  assertEquals(done.attempt, 2);
  assertEquals(stepStatuses(done)["main/deploy"], "SUCCEEDED");
});

Deno.test("listing runs applies a timeout that has passed, like any other read", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-gated.yaml": gated(oneSecondGate),
  });
  const runId = await runPastExpiry(repo);
  const listed = await repo.cli(["workflow", "list", "--json"]);
  assertEquals(listed.code, 0, listed.stderr);
  const runs = (listed.json as { runs: { id: string; status: string }[] }).runs;
  assertEquals(runs.map((r) => [r.id, r.status]), [[runId, "failed"]]);
});
