// Inputs larger than the examples (issue 18), through the CLI: a 1,000,000-item
// list that expressions cannot load in time ends the run with a clear error
// (not a wedged supervisor), and inputs past what expressions may read are
// refused at submit, creating no run.
import {
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  runServiceFor,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

const counting = workflowFile(
  "count",
  shellStep("count", 'echo "count=${{ size(inputs.items) }}"'),
);

Deno.test("a 1,000,000-item input: the run ends, its step failing with an error that names the variable", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-count.yaml": counting });
  const file = `${repo.root}/items.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ items: Array.from({ length: 1_000_000 }, (_, i) => i) }),
  );
  const started = await repo.cli(["workflow", "run", "count", "--input-file", file, "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const run = await eventually("the run to end", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "running" || run.status === "pending" ? undefined : run;
  }, 120_000);
  assertEquals(run.status, "failed", JSON.stringify(run));
  assertEquals(run.steps[0].status, "failed");
  assertMatch(
    run.steps[0].reason ?? "",
    /expression_limit_exceeded: variable inputs \(\d+\.\d MiB of JSON\)/,
  );
  const status = await repo.cli(["workflow", "status", runId]);
  assertEquals(status.code, 0, status.stderr);
});

Deno.test("inputs past what expressions may read are refused at submit, and no run is created", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-count.yaml": counting });
  const file = `${repo.root}/items.json`;
  await Deno.writeTextFile(file, JSON.stringify({ items: "x".repeat(9 << 20) }));
  const refused = await repo.cli(["workflow", "run", "count", "--input-file", file, "--json"]);
  assertEquals(refused.code, 6, refused.stderr);
  assertMatch(
    refused.stderr + refused.stdout,
    /inputs are 9\.0 MiB of JSON, more than the 8\.0 MiB/,
  );
  const listed = await repo.cli(["workflow", "list", "--json"]);
  assertEquals((listed.json as { runs: unknown[] }).runs, []);

  // Deeper than expressions may read: refused the same way, through the API too.
  const service = await runServiceFor(repo.root);
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  const error = await service.submitRun({ workflow: "count", inputs: { items: deep } as never })
    .then(() => undefined, (e) => e as Error);
  assertMatch(String(error), /nest lists and maps more than 256 levels deep/);
  assertEquals(
    (await repo.cli(["workflow", "list", "--json"]).then((r) => r.json as { runs: unknown[] }))
      .runs,
    [],
  );
});

Deno.test("a step printing 10 MB keeps 64 KiB as its output, and the next step's expressions read it", async () => {
  // One step's recorded output is bounded when it is recorded (the executor's
  // capture, then the engine whatever the executor reported), so it can never
  // be too large for a later expression: no refusal is needed, nor any wedge.
  const file = workflowFile(
    "big",
    shellStep("big", "head -c 10000000 /dev/zero | tr '\\0' a") +
      shellStep(
        "after",
        'echo "n=${{ size(steps.big.outputs.stdout) }} cut=${{ steps.big.outputs.stdoutTruncated }}"',
        "        dependsOn: [{step: big, condition: {type: succeeded}}]\n",
      ),
  );
  await using repo = await repoWith("file", { "workflows/workflow-big.yaml": file });
  const started = await repo.cli(["workflow", "run", "big", "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = started.stdout.trim().split("\n")[0];
  const run = await eventually("the run to end", async () => {
    const run = await statusJson(repo, runId);
    return run.status === "running" || run.status === "pending" ? undefined : run;
  }, 120_000);
  assertEquals(run.status, "succeeded", JSON.stringify(run).slice(0, 2000));
  const [big, after] = ["big", "after"].map((name) => run.steps.find((s) => s.name === name)!);
  assertEquals((big.outputs?.stdout as string).length, 64 * 1024);
  assertEquals(big.outputs?.stdoutTruncated, true);
  assertEquals(after.outputs?.stdout, "n=65536 cut=true\n");
});
