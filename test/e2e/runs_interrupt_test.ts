// Ctrl-C while `workflow run` follows a run (issue 17): one press leaves the
// run going and says how to reach it (exit 13); a second within the window
// cancels it (exit 10); a third after that stops following. Every SIGINT here
// goes to the CLI's whole process group, as a terminal sends it, so the run's
// supervisor surviving it is tested too. --server goes through the same code.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  mintToken,
  repoWith,
  shellStep,
  startForeground,
  startServe,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

/**
 * A step that runs until the test creates `go` in the repository, then says
 * `done`; it also ends when the repository is removed, so a failed test leaves
 * nothing behind.
 */
function gatedOnFile(root: string, trap = ""): string {
  return shellStep(
    "wait",
    `${trap}while [ -d ${root} ] && [ ! -e ${root}/go ]; do sleep 0.1; done; echo done`,
  );
}

async function repoGatedOnFile(trap = "") {
  const repo = await repoWith("file", {});
  await Deno.mkdir(`${repo.root}/workflows`, { recursive: true });
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-slow.yaml`,
    workflowFile("slow", gatedOnFile(repo.root, trap)),
  );
  return repo;
}

const stepRunning = /• main\/wait running/;

Deno.test("one Ctrl-C to the terminal's group detaches: exit 13 with the ways to reach the run, which goes on and succeeds", async () => {
  await using repo = await repoGatedOnFile();
  const cli = startForeground(["workflow", "run", "slow", "--repo", repo.root], {
    SWAMP_INTERRUPT_WINDOW_MS: "300",
  });
  await cli.stderrMatches(stepRunning);
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 13, result.stderr); // run_active
  const runId = result.stdout.split("\n")[0];
  const id = runId.slice(0, 8);
  assertMatch(
    result.stderr,
    /detaching: the run goes on\. Ctrl-C again within 0\.3 s cancels it\./,
  );
  assertMatch(result.stderr, new RegExp(`detached: run ${id} goes on\\.`));
  for (const hint of ["logs", "wait", "status", "cancel"]) {
    assertMatch(result.stderr, new RegExp(`swamp workflow ${hint} ${id}`));
  }
  assertEquals((await statusJson(repo, runId)).status, "running");

  await Deno.writeTextFile(`${repo.root}/go`, "");
  const waited = await repo.cli(["workflow", "wait", runId]);
  assertEquals(waited.code, 0, waited.stderr);
  const run = await statusJson(repo, runId);
  assertEquals(run.status, "succeeded");
  assertEquals(run.steps[0].outputs?.stdout, "done\n");
});

Deno.test("a second Ctrl-C within the window cancels the run and shows it through: exit 10", async () => {
  await using repo = await repoGatedOnFile();
  // A window far longer than the test needs: the second press cannot miss it.
  const cli = startForeground(["workflow", "run", "slow", "--repo", repo.root], {
    SWAMP_INTERRUPT_WINDOW_MS: "600000",
    SWAMP_CANCEL_GRACE_MS: "300",
  });
  await cli.stderrMatches(stepRunning);
  cli.ctrlC();
  await cli.stderrMatches(/Ctrl-C again within 600 s cancels it/);
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 10, result.stderr); // run_cancelled
  assertMatch(result.stderr, /cancelling… \(Ctrl-C again stops following; the cancel goes on\)/);
  assertMatch(result.stderr, /run cancelled/);
  assert(!/detached/.test(result.stderr), result.stderr);
  const run = await statusJson(repo, result.stdout.split("\n")[0]);
  assertEquals(run.status, "cancelled");
  assertMatch(run.reason ?? "", /interrupted from the terminal$/);
  assertEquals(run.cancelTimeline[0].stage, "requested");
});

Deno.test("a third Ctrl-C stops following while the cancel goes on: exit 13, no cancel hint", async () => {
  // The step ignores SIGINT, so the cancel waits on it until the test lets it end.
  await using repo = await repoGatedOnFile("trap '' INT; ");
  const cli = startForeground(["workflow", "run", "slow", "--repo", repo.root], {
    SWAMP_INTERRUPT_WINDOW_MS: "600000",
    SWAMP_CANCEL_GRACE_MS: "600000",
  });
  await cli.stderrMatches(stepRunning);
  cli.ctrlC();
  await cli.stderrMatches(/Ctrl-C again within/);
  cli.ctrlC();
  await cli.stderrMatches(/cancelling…/);
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 13, result.stderr);
  const runId = result.stdout.split("\n")[0];
  assertMatch(
    result.stderr,
    new RegExp(`stopped following: the cancel of run ${runId.slice(0, 8)}`),
  );
  assert(!/swamp workflow cancel/.test(result.stderr), result.stderr);

  const cancelling = await eventually("the step interrupted", async () => {
    const run = await statusJson(repo, runId);
    return run.cancelTimeline.some((s) => s.stage === "interrupted") ? run : undefined;
  });
  assertEquals(cancelling.status, "cancelling");
  // Let the step end, so the run does not outlive the test.
  await Deno.writeTextFile(`${repo.root}/go`, "");
  await repo.cli(["workflow", "wait", runId]);
});

Deno.test("under --json a detach ends stdout's NDJSON with the run as it stands", async () => {
  await using repo = await repoGatedOnFile();
  const cli = startForeground(["workflow", "run", "slow", "--json", "--repo", repo.root], {
    SWAMP_INTERRUPT_WINDOW_MS: "300",
  });
  // Under --json nothing shows that the CLI follows. The submit returned within
  // 300 ms of launching the supervisor, which must then start, run the step and
  // record it, and the status command that sees it must start too.
  await eventually("the run's step to run", async () => {
    const list = (await repo.cli(["workflow", "list", "--json"])).json as {
      runs: { id: string }[];
    };
    if (list.runs.length === 0) return undefined;
    const run = await statusJson(repo, list.runs[0].id);
    return run.steps[0].process?.pid ? run.id : undefined;
  });
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 13, result.stderr);
  const lines = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  const document = lines.pop() as { run: { id: string; status: string } };
  assert(lines.every((line) => "event" in line || "line" in line), result.stdout);
  assertEquals(document.run.status, "running");
  assertMatch(result.stderr, /detaching: the run goes on/);
  assertMatch(result.stderr, new RegExp(`swamp workflow wait ${document.run.id.slice(0, 8)}`));
  await Deno.writeTextFile(`${repo.root}/go`, "");
  assertEquals((await repo.cli(["workflow", "wait", document.run.id])).code, 0);
});

Deno.test("through --server a Ctrl-C detaches the same way; the server's run goes on and succeeds", async () => {
  await using repo = await repoGatedOnFile();
  const token = await mintToken(repo.root, "runner", "operator");
  await using server = await startServe(repo.root);
  const cli = startForeground(
    ["workflow", "run", "slow", "--server", server.url, "--token", token],
    { SWAMP_INTERRUPT_WINDOW_MS: "300" },
  );
  await cli.stderrMatches(stepRunning);
  cli.ctrlC();
  const result = await cli.finished;
  assertEquals(result.code, 13, result.stderr);
  const runId = result.stdout.split("\n")[0];
  assertMatch(result.stderr, new RegExp(`detached: run ${runId.slice(0, 8)} goes on\\.`));
  await Deno.writeTextFile(`${repo.root}/go`, "");
  const waited = await server.cli(["workflow", "wait", runId], token);
  assertEquals(waited.code, 0, waited.stderr);
});
