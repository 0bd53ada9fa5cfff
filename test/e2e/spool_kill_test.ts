// Issue 17 / decision 0024: a `kill -9` of a run's supervisor loses no line a
// local step wrote. Each round kills the supervisor while its step prints a
// numbered line about every millisecond; `workflow status` reconciles the run
// (ending the step, importing the rest of its spool file); `workflow logs`
// must then hold every number the step recorded as printed, once each, with
// no gap. The step's own file of what it printed is the oracle.
import {
  assert,
  assertEquals,
  eventually,
  repoWith,
  shellStep,
  statusJson,
  storeKindsWithPostgres,
  workflowFile,
} from "../helpers/mod.ts";

const killsPerStore = 6;

for (const store of await storeKindsWithPostgres("kill -9 of the supervisor while a step prints")) {
  Deno.test(`[${store}] ${killsPerStore} kill -9 of the supervisor while a step prints: every printed line is in the log once`, async () => {
    await using repo = await repoWith(store, {});
    const oracle = `${repo.root}/printed`;
    // A line is in the oracle only once it was written to stdout.
    const script = `i=0; while :; do i=$((i+1)); echo "n$i"; echo "$i" >> ${oracle}; ` +
      `sleep 0.001; done`;
    await Deno.writeTextFile(
      `${repo.root}/workflows/workflow-count.yaml`,
      workflowFile("count", shellStep("counter", script)),
    );
    for (let round = 0; round < killsPerStore; round++) {
      await Deno.remove(oracle).catch(() => {});
      const started = await repo.cli(["workflow", "run", "count", "--detach"]);
      assertEquals(started.code, 0, started.stderr);
      const runId = started.stdout.trim().split("\n")[0];
      const run = await eventually("the step's process", async () => {
        const run = await statusJson(repo, runId);
        return run.steps[0].process?.pid ? run : undefined;
      });
      // Some lines stored, some only in the supervisor's batch: kill at a varying moment.
      await new Promise((resolve) => setTimeout(resolve, 150 + 60 * round));
      Deno.kill(run.owner!.pid, "SIGKILL");
      const after = await eventually("the run to be abandoned", async () => {
        const next = await statusJson(repo, runId);
        return next.status === "abandoned" ? next : undefined;
      });
      assertEquals(after.steps[0].status, "abandoned");
      const printed = (await Deno.readTextFile(oracle)).trim().split("\n").map(Number);
      const logs = await repo.cli(["workflow", "logs", runId]);
      assertEquals(logs.code, 0, logs.stderr);
      const logged = logs.stdout.split("\n").flatMap((line) => {
        const m = /\] n(\d+)$/.exec(line);
        return m ? [Number(m[1])] : [];
      });
      const last = printed[printed.length - 1];
      assert(last > 0, "the step printed something");
      // 1..n in order, each once; n is the oracle's last, or one more (printed, then killed
      // before it wrote the number to its file).
      assert(
        logged.length === last || logged.length === last + 1,
        `round ${round}: ${logged.length} lines logged, ${last} printed`,
      );
      assertEquals(logged, logged.map((_, i) => i + 1), `round ${round}: gaps or duplicates`);
      const spools = await Array.fromAsync(Deno.readDir(`${repo.root}/.swamp/spool`))
        .catch(() => []);
      assertEquals(spools.filter((e) => e.name === runId), [], "the run's spool is removed");
    }
  });
}

Deno.test("a run that ends normally leaves no spool behind, and its log has both streams", async () => {
  await using repo = await repoWith("sqlite", {
    "workflows/workflow-both.yaml": workflowFile(
      "both",
      shellStep("both", "echo out1; echo err1 >&2; printf 'no newline'"),
    ),
  });
  const result = await repo.cli(["workflow", "run", "both"]);
  assertEquals(result.code, 0, result.stderr);
  const runId = result.stdout.trim().split("\n")[0];
  const logs = await repo.cli(["workflow", "logs", runId]);
  for (const line of ["out1", "err1", "no newline"]) {
    assert(logs.stdout.includes(`] ${line}\n`), `${line} in ${logs.stdout}`);
  }
  const run = await statusJson(repo, runId);
  assertEquals(
    (run.steps[0] as { outputs?: { stdout?: string } }).outputs?.stdout,
    "out1\nno newline",
  );
  const left = await Array.fromAsync(Deno.readDir(`${repo.root}/.swamp/spool`)).catch(() => []);
  assertEquals(left, []);
});
