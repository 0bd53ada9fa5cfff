import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  groupAlive,
  repoWith,
  runServiceFor,
  shellStep,
  statusJson,
  statusName,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

// Resuming an abandoned run: after a kill -9 of its supervisor, the new
// attempt repeats only the step that was running, and starts once what that
// step left is confirmed gone.

const mark = 'echo "$SWAMP_STEP_NAME $SWAMP_RUN_ATTEMPT" >> marks';
// Step 5 says it has started, then waits for the test: killed while it waits, its first
// attempt never writes its mark.
const waiter = `touch ready; while [ ! -f go ]; do sleep 0.1; done; ${mark}`;

/** Ten steps, each after the one before, each adding its name and attempt to `marks`. */
function tenSteps(): string {
  let steps = "";
  for (let i = 1; i <= 10; i++) {
    const after = i > 1
      ? `        dependsOn: [{step: s${i - 1}, condition: {type: succeeded}}]\n`
      : "";
    steps += shellStep(`s${i}`, i === 5 ? waiter : mark, after);
  }
  return workflowFile("ten", steps);
}

const expectedMarks = [
  ...[1, 2, 3, 4].map((i) => `s${i} 1`),
  ...[5, 6, 7, 8, 9, 10].map((i) => `s${i} 2`),
].join("\n") + "\n";

type Repo = Awaited<ReturnType<typeof repoWith>>;

/** Starts the run and waits until step 5 waits; returns the run, its owner and step 5's group. */
async function runUntilStepFive(repo: Repo) {
  const started = await repo.cli(["workflow", "run", "ten", "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const run = await eventually("step 5 to wait", async () => {
    const run = await statusJson(repo, runId);
    const five = run.steps.find((s) => s.id === "main/s5");
    const ready = await Deno.stat(`${repo.root}/ready`).then(() => true, () => false);
    return ready && five?.process?.pgid ? run : undefined;
  });
  const pgid = run.steps.find((s) => s.id === "main/s5")!.process!.pgid;
  return { runId, owner: run.owner!.pid, pgid };
}

/** Lets step 5 go on, waits for the run to end, and checks that each step ran once. */
async function finishes(repo: Repo, runId: string) {
  await Deno.writeTextFile(`${repo.root}/go`, "");
  const done = await eventually("the resumed run to end", async () => {
    const run = await statusJson(repo, runId);
    return ["succeeded", "failed", "cancelled", "abandoned"].includes(statusName(run.status))
      ? run
      : undefined;
  });
  assertEquals(statusName(done.status), "succeeded", done.reason);
  assertEquals(await Deno.readTextFile(`${repo.root}/marks`), expectedMarks);
  assertEquals(done.attempt, 2);
  assertEquals(
    done.steps.map((s) => `${s.id} ${s.attempt}`),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `main/s${i} ${i < 5 ? 1 : 2}`),
  );
  return done;
}

for (const store of storeKinds) {
  Deno.test(`[${store}] an abandoned run resumes as attempt 2 and repeats only the step that was running`, async () => {
    await using repo = await repoWith(store, { "workflows/workflow-ten.yaml": tenSteps() });
    const { runId, owner } = await runUntilStepFive(repo);
    Deno.kill(owner, "SIGKILL");
    const reconciled = await repo.cli(["workflow", "reconcile", "--json"]);
    assertEquals(reconciled.code, 0, reconciled.stderr);
    const abandoned = await statusJson(repo, runId);
    assertEquals(statusName(abandoned.status), "abandoned");
    assertEquals(statusName(abandoned.steps[4].status), "abandoned");

    const resumed = await repo.cli(["workflow", "resume", runId, "--detach"]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertMatch(resumed.stderr, /resumed \(attempt 2\)/);
    const done = await finishes(repo, runId);

    const shown = await repo.cli(["workflow", "status", runId]);
    assertMatch(shown.stdout, /by .*, attempt 2/);
    assertMatch(shown.stdout, /main\/s4 {2}succeeded \S+\n/);
    assertMatch(shown.stdout, /main\/s5 {2}succeeded \S+ {2}attempt 2/);

    // The event log says who resumed it (the account that ran the CLI, as for the run) and why.
    const service = await runServiceFor(repo.root);
    const resumes = [];
    for await (const { event } of service.watchRunEvents({ runId })) {
      if (event?.payload.case === "runResumed") resumes.push(event);
    }
    assertEquals(resumes.map((e) => [e.actor, e.reason]), [[
      done.actor,
      "resumed after abandonment",
    ]]);
  });

  Deno.test(`[${store}] resume refuses a run whose owner lives, and starts again only once the old step is gone`, async () => {
    await using repo = await repoWith(store, { "workflows/workflow-ten.yaml": tenSteps() });
    const { runId, owner, pgid } = await runUntilStepFive(repo);
    const early = await repo.cli(["workflow", "resume", runId]);
    assertEquals(early.code, 5, early.stderr);
    assertMatch(early.stderr, /error\[run_state\]: run .* is running: it was resumed already/);

    Deno.kill(owner, "SIGKILL");
    // The step's process group is its own session: it outlives its supervisor.
    assert((await groupAlive(pgid)).length > 0, "step 5 still runs after its supervisor died");
    // No read in between: the resume itself finds the owner gone and what it left.
    const resumed = await repo.cli(["workflow", "resume", runId, "--detach"]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals(await groupAlive(pgid), []);
    await finishes(repo, runId);
    const logs = await repo.cli(["workflow", "logs", runId]);
    assertMatch(logs.stdout, /\[run\] resume: step main\/s5: .*confirmed gone/);
  });
}

Deno.test("an abandoned run with a waiting gate suspends again; its nested run resumes where it stopped", async () => {
  const parent = `id: ${crypto.randomUUID()}
name: parent
jobs:
  - name: main
    steps:
      - name: nest
        task: {type: workflow, workflowIdOrName: child}
  - name: approve
    steps:
${gateStep("confirm")}`;
  const child = workflowFile(
    "child",
    shellStep("one", mark) +
      shellStep("two", waiter, "        dependsOn: [{step: one, condition: {type: succeeded}}]\n"),
  );
  await using repo = await repoWith("file", {
    "workflows/workflow-parent.yaml": parent,
    "workflows/workflow-child.yaml": child,
  });
  const started = await repo.cli(["workflow", "run", "parent", "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const running = await eventually("the nested step to wait", async () => {
    const run = await statusJson(repo, runId);
    const ready = await Deno.stat(`${repo.root}/ready`).then(() => true, () => false);
    return ready && run.steps[0].childRunId ? run : undefined;
  });
  const childId = running.steps[0].childRunId!;
  const pgid = (await statusJson(repo, childId)).steps[1].process!.pgid;
  Deno.kill(running.owner!.pid, "SIGKILL");
  assert((await groupAlive(pgid)).length > 0, "the nested step outlives the supervisor");

  const again = await repo.cli(["workflow", "resume", runId]);
  assertEquals(again.code, 12, again.stderr);
  assertEquals(await groupAlive(pgid), []);
  const suspended = await statusJson(repo, runId);
  assertEquals([statusName(suspended.status), suspended.attempt], ["suspended", 2]);
  const gate = suspended.steps.find((s) => s.id === "approve/confirm")!;
  assertEquals([statusName(gate.status), gate.approval?.prompt], [
    "waiting_approval",
    "Approve confirm?",
  ]);

  assertEquals((await repo.cli(["workflow", "approve", runId])).code, 0);
  await Deno.writeTextFile(`${repo.root}/go`, "");
  const done = await repo.cli(["workflow", "resume", runId]);
  assertEquals(done.code, 0, done.stderr);
  assertEquals(await Deno.readTextFile(`${repo.root}/marks`), "one 1\ntwo 2\n");
  const nested = await statusJson(repo, childId);
  assertEquals([statusName(nested.status), nested.attempt], ["succeeded", 2]);
  assertEquals(statusName((await statusJson(repo, runId)).status), "succeeded");
});
