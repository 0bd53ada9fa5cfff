// A cancel always ends a run, even when its supervisor has stopped answering
// (issue 18). The supervisor is stopped with SIGSTOP, a real wedge: alive, its
// process there, no heartbeat and no answer. `workflow cancel` waits its
// grace, ends the supervisor by its recorded pid, and reconciles the run as
// cancelled: no process of it is left, the lock is free.
import {
  assertEquals,
  assertMatch,
  eventually,
  groupAlive,
  repoWith,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";
import { isSameProcessAlive } from "../../runtime/mod.ts";

Deno.test("a cancel of a run whose supervisor stopped answering ends the supervisor and cancels the run", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("long", "sleep 300", "", "db")),
  });
  const started = await repo.cli(["workflow", "run", "slow", "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const run = await eventually("the step's process", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0].process?.pid ? run : undefined;
  });
  const owner = run.owner as { pid: number; processStart: string };
  const pgid = run.steps[0].process!.pgid;
  Deno.kill(owner.pid, "SIGSTOP");
  try {
    const cancel = await repo.cli(["workflow", "cancel", runId, "--json"]);
    assertEquals(cancel.code, 0, cancel.stderr);
    const after = (cancel.json as { run: typeof run }).run;
    assertEquals(after.status, "cancelled", JSON.stringify(after));
    assertMatch(
      after.reason ?? "",
      new RegExp(`^the supervisor \\(pid ${owner.pid}\\) did not answer the cancel within \\d+ s`),
    );
    assertEquals(after.steps[0].status, "cancelled");
    assertEquals(after.locks ?? [], []);
    assertEquals(await isSameProcessAlive(owner.pid, owner.processStart), false);
    assertEquals(await groupAlive(pgid), []);
    const logs = await repo.cli(["workflow", "logs", runId]);
    assertMatch(logs.stdout, /reconcile: marked the run cancelled \(the supervisor/);
  } finally {
    // If the test failed before the cancel ended it, do not leave it stopped.
    try {
      Deno.kill(owner.pid, "SIGKILL");
    } catch {
      // Gone, as it should be.
    }
  }
});
