// What `swamp serve` owns survives it honestly: SIGTERM drains and exits 0,
// kill -9 leaves runs that the next server reconciles (nothing re-run,
// processes ended), suspended runs wait for it, and gate timeouts fire on the
// server's own timer, not when somebody reads.
import { openFileStore } from "../../plugins/stores/file/mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  groupAlive,
  mintToken,
  repoWith,
  runIdOf,
  shellStep,
  startServe,
  statusJson,
  stepStatuses,
  workflowFile,
} from "../helpers/mod.ts";

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;

const files = {
  "workflows/workflow-slow.yaml": workflowFile(
    "slow",
    shellStep("nap", "echo started >> nap-count; sleep 30"),
  ),
  "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("q", "sleep 1; echo done")),
  "workflows/workflow-gated.yaml": workflowFile(
    "gated",
    shellStep("build", "echo built >> build-count") +
      gateStep("confirm", after("build"), "          timeout: 1s\n") +
      shellStep("ship", "echo shipped", after("confirm")),
  ),
  "workflows/workflow-held.yaml": workflowFile(
    "held",
    gateStep("confirm") + shellStep("ship", "echo shipped", after("confirm")),
  ),
};

Deno.test("serve: SIGTERM lets owned runs finish, then exits 0 with its lifecycle in --json", async () => {
  await using repo = await repoWith("file", files);
  const operator = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root);
  const started = await server.cli(["workflow", "run", "quick", "--detach"], operator);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  await eventually(
    "the server to own the run",
    () => Promise.resolve(server.events.some((e) => e.event === "run_owned") || undefined),
  );
  assertEquals(await server.stop(), 0);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "succeeded");
  const names = server.events.map((e) => e.event);
  assertEquals(names.filter((n) => n !== "run_owned" && n !== "run_released"), [
    "listening",
    "draining",
    "stopped",
  ]);
  assertEquals(server.events.at(-1)?.cancelled, []);
});

Deno.test("serve: kill -9 mid-step, start again: the run is abandoned, its process ended, nothing re-run", async () => {
  await using repo = await repoWith("sqlite", files);
  const operator = await mintToken(repo.root, "op", "operator");
  const first = await startServe(repo.root);
  const runId = runIdOf(await first.cli(["workflow", "run", "slow", "--detach"], operator));
  const running = await eventually("the step to run", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].process?.pgid ? run : undefined;
  });
  assertEquals(running.owner?.pid, first.pid, "the server process owns the run");
  const pgid = running.steps[0].process!.pgid;
  await first.kill();

  await using second = await startServe(repo.root);
  assertMatch(JSON.stringify(second.events), /"event":"reconciled","time":"[^"]+","runs":1/);
  const after = await statusJson(repo, runId);
  assertEquals(after.status, "abandoned");
  assertEquals(await groupAlive(pgid), [], "the step's processes outlived reconciliation");
  assertEquals(await Deno.readTextFile(`${repo.root}/nap-count`), "started\n");
});

Deno.test("serve: a run suspended at a gate stays suspended across kill -9, and the next server resumes it", async () => {
  await using repo = await repoWith("file", files);
  const operator = await mintToken(repo.root, "op", "approver");
  const first = await startServe(repo.root);
  const runId = runIdOf(await first.cli(["workflow", "run", "held"], operator));
  assertEquals((await statusJson(repo, runId)).status, "suspended");
  await first.kill();
  await using second = await startServe(repo.root);
  assertEquals((await statusJson(repo, runId)).status, "suspended");
  assertEquals((await second.cli(["workflow", "approve", runId], operator)).code, 0);
  const resumed = await second.cli(["workflow", "resume", runId], operator);
  assertEquals(resumed.code, 0, resumed.stderr);
  assertMatch(resumed.stdout, /^\[main\/ship\] shipped$/m);
  const done = await statusJson(repo, runId);
  assertEquals([done.status, done.attempt], ["succeeded", 2]);
});

Deno.test("serve: a gate's timeout fires on the server's timer with nobody reading the run", async () => {
  await using repo = await repoWith("file", files);
  const operator = await mintToken(repo.root, "op", "operator");
  await using server = await startServe(repo.root);
  const runId = runIdOf(await server.cli(["workflow", "run", "gated"], operator));
  // Read the store itself, which applies nothing: only the server can have written the outcome.
  const store = await openFileStore(`${repo.root}/.swamp`);
  try {
    const decided = await eventually("the server to apply the timeout", async () => {
      const stored = await store.loadRun(runId);
      const events = [...(await store.readEvents(runId, 0n))];
      const decision = events.find((e) => e.payload.case === "approvalDecided");
      return stored && decision ? decision : undefined;
    }, 15_000);
    assertEquals(decided.actor, "system");
  } finally {
    await store.close();
  }
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "failed");
  assertEquals(stepStatuses(run)["main/ship"], "SKIPPED");
  assert(run.steps[1].approval?.decision?.reason?.startsWith("timed out at "));
});
