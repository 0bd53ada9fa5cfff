// Ctrl-C before `workflow run` has printed the run id, and during
// `workflow logs --follow` (issue 17). Every SIGINT goes to the CLI's whole
// process group, as a terminal sends it.
import { DatabaseSync } from "node:sqlite";
import {
  assertEquals,
  assertMatch,
  repoWith,
  shellStep,
  startForeground,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

Deno.test("Ctrl-C while the run is being submitted cancels the run it creates: its id, exit 10", async () => {
  await using repo = await repoWith("sqlite", {});
  // A step that would run until the repository goes: only the cancel ends it.
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-one.yaml`,
    workflowFile("one", shellStep("hi", `while [ -d ${repo.root} ]; do sleep 0.1; done`)),
  );
  // Holding the store's write lock keeps the submission waiting (busy_timeout is 5 s) until
  // the test has pressed Ctrl-C: no race with how fast the run starts.
  const db = new DatabaseSync(`${repo.root}/.swamp/swamp.db`);
  db.exec("BEGIN IMMEDIATE");
  let locked = true;
  try {
    const cli = startForeground(["workflow", "run", "one", "-v", "--repo", repo.root]);
    await cli.stderrMatches(/submitting a run of one/);
    cli.ctrlC();
    await cli.stderrMatches(
      /interrupted while starting: the run is cancelled as soon as it exists/,
    );
    db.exec("COMMIT");
    locked = false;
    const result = await cli.finished;
    assertEquals(result.code, 10, result.stderr); // run_cancelled
    const runId = result.stdout.split("\n")[0];
    assertMatch(runId, /^[0-9a-f-]{36}$/);
    assertMatch(result.stderr, /run .* cancelled: .*interrupted from the terminal while starting/);
    const run = await statusJson(repo, runId);
    assertEquals(run.status, "cancelled");
    assertMatch(run.reason ?? "", /interrupted from the terminal while starting$/);
  } finally {
    if (locked) db.exec("ROLLBACK");
    db.close();
  }
});

Deno.test("a second Ctrl-C while the submission still waits stops waiting: exit 13, how to find the run", async () => {
  await using repo = await repoWith("sqlite", {
    "workflows/workflow-one.yaml": workflowFile("one", shellStep("hi", "echo hi")),
  });
  const db = new DatabaseSync(`${repo.root}/.swamp/swamp.db`);
  db.exec("BEGIN IMMEDIATE");
  try {
    const cli = startForeground(["workflow", "run", "one", "-v", "--repo", repo.root]);
    await cli.stderrMatches(/submitting a run of one/);
    cli.ctrlC();
    await cli.stderrMatches(/Ctrl-C again stops waiting/);
    cli.ctrlC();
    const result = await cli.finished;
    assertEquals(result.code, 13, result.stderr); // run_active: the run may go on
    assertMatch(result.stderr, /stopped waiting for the submission: the run may have been created/);
    assertMatch(result.stderr, /swamp workflow list --status pending --status running/);
  } finally {
    db.exec("ROLLBACK");
    db.close();
  }
});

Deno.test("Ctrl-C during logs --follow stops following at once; the run goes on: exit 13", async () => {
  await using repo = await repoWith("file", {});
  const gate = `while [ -d ${repo.root} ] && [ ! -e ${repo.root}/go ]; do sleep 0.1; done`;
  await Deno.mkdir(`${repo.root}/workflows`, { recursive: true });
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-slow.yaml`,
    workflowFile("slow", shellStep("wait", `echo started; ${gate}; echo done`)),
  );
  const started = await repo.cli(["workflow", "run", "slow", "--detach"]);
  const runId = started.stdout.split("\n")[0];
  const cli = startForeground(["workflow", "logs", runId, "--follow", "--repo", repo.root]);
  await cli.stdoutMatches(/\[main\/wait\] started/);
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 13, result.stderr); // run_active
  assertMatch(result.stderr, new RegExp(`run ${runId} running`));
  assertMatch(result.stderr, new RegExp(`swamp workflow wait ${runId.slice(0, 8)}`));
  assertEquals((await statusJson(repo, runId)).status, "running");

  await Deno.writeTextFile(`${repo.root}/go`, "");
  const followed = await repo.cli(["workflow", "logs", runId, "--follow", "--json"]);
  assertEquals(followed.code, 0, followed.stderr);
  const lines = followed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines.pop().run.status, "succeeded");
  assertEquals(lines.map((line) => line.text), ["started", "done"]);
});
