// A model lock is the steps' that act on the model, not the whole run's
// (issue 17): once a run's last step on a model has ended, another run acting
// on that model goes ahead while the first is still busy with other steps.
import {
  assertEquals,
  eventually,
  repoWith,
  shellStep,
  statusJson,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

const after = "        dependsOn: [{step: migrate, condition: {type: succeeded}}]\n";

for (const store of storeKinds) {
  Deno.test(`[${store}] another run takes a model as soon as the run before it is done with the model`, async () => {
    await using repo = await repoWith(store, {
      // The second step holds the first run open until the test creates `release`.
      "workflows/workflow-first.yaml": workflowFile(
        "first",
        shellStep("migrate", "echo first", "", "db") +
          shellStep("linger", "while [ ! -f release ]; do sleep 0.1; done", after, "pause"),
      ),
      "workflows/workflow-second.yaml": workflowFile(
        "second",
        shellStep("migrate", "echo second", "", "db"),
      ),
    });
    const started = await repo.cli(["workflow", "run", "first", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const first = started.stdout.trim();
    const lingering = await eventually("the first run's second step", async () => {
      const run = await statusJson(repo, first);
      return run.steps[1].status === "running" ? run : undefined;
    });
    assertEquals(lingering.steps[0].status, "succeeded");
    assertEquals(lingering.locks ?? [], ["model:command/shell/pause"]);

    const second = await repo.cli(["workflow", "run", "second", "--detach"]);
    assertEquals(second.code, 0, second.stderr);
    // Bounded, so a second run that waits for the whole first run fails the test instead of hanging it.
    const done = await repo.cli([
      "workflow",
      "wait",
      second.stdout.trim(),
      "--timeout",
      "60s",
      "--json",
    ]);
    assertEquals(done.code, 0, done.stderr);
    const run = (done.json as { run: { status: string } }).run;
    assertEquals(run.status, "succeeded");
    // The first run has not moved on meanwhile: its step on the other model still runs.
    const meanwhile = await statusJson(repo, first);
    assertEquals(meanwhile.status, "running");
    assertEquals(meanwhile.steps[1].status, "running");

    await Deno.writeTextFile(`${repo.root}/release`, "");
    assertEquals((await repo.cli(["workflow", "wait", first])).code, 0);
  });
}
