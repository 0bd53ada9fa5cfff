import {
  assertEquals,
  eventually,
  groupAlive,
  repoWith,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

const env = { SWAMP_CANCEL_GRACE_MS: "300" };

Deno.test("a nested workflow runs as its own run, and cancelling the parent cancels it", async () => {
  const parent = workflowFile(
    "parent",
    `      - name: call\n        task: {type: workflow, workflowIdOrName: child}\n`,
  );
  const child = workflowFile("child", shellStep("work", "trap '' INT; sleep 300"));
  const quick = workflowFile(
    "quick-parent",
    `      - name: call\n        task: {type: workflow, workflowIdOrName: quick-child}\n`,
  );
  const quickChild = workflowFile("quick-child", shellStep("hello", "echo from the child"));
  await using repo = await repoWith("file", {
    "workflows/workflow-parent.yaml": parent,
    "workflows/workflow-child.yaml": child,
    "workflows/workflow-quick-parent.yaml": quick,
    "workflows/workflow-quick-child.yaml": quickChild,
  });

  const done = await repo.cli(["workflow", "run", "quick-parent"]);
  assertEquals(done.code, 0, done.stderr);
  const runs = (await repo.cli(["workflow", "list", "--json"])).json as {
    runs: { id: string; workflowName: string; status: string }[];
  };
  const nested = runs.runs.find((r) => r.workflowName === "quick-child")!;
  assertEquals(nested.status, "succeeded");
  const nestedRun = await statusJson(repo, nested.id) as unknown as {
    parentRunId: string;
    steps: { outputs: { stdout: string } }[];
  };
  assertEquals(nestedRun.parentRunId, done.stdout.split("\n")[0]);
  assertEquals(nestedRun.steps[0].outputs.stdout, "from the child\n");

  const parentId = (await repo.cli(["workflow", "run", "parent", "--detach"], env)).stdout.trim();
  const childRun = await eventually("the child's step to run", async () => {
    const list = (await repo.cli(["workflow", "list", "--workflow", "child", "--json"])).json as {
      runs: { id: string }[];
    };
    if (list.runs.length === 0) return undefined;
    const run = await statusJson(repo, list.runs[0].id);
    return run.steps[0].process?.pgid ? run : undefined;
  });
  const cancel = await repo.cli(["workflow", "cancel", parentId], env);
  assertEquals(cancel.code, 0, cancel.stderr);
  assertEquals((await statusJson(repo, parentId)).status, "cancelled");
  const childAfter = await statusJson(repo, childRun.id);
  assertEquals(childAfter.status, "cancelled");
  assertEquals(childAfter.steps[0].status, "cancelled");
  assertEquals(await groupAlive(childRun.steps[0].process!.pgid), []);
});

Deno.test("runs naming the same lock take turns, and the waiting run says on what", async () => {
  const flow = (name: string, script: string) =>
    workflowFile(name, shellStep("work", script), "locks: [deploy]\n");
  await using repo = await repoWith("sqlite", {
    "workflows/workflow-one.yaml": flow(
      "one",
      "while [ ! -f release ]; do sleep 0.1; done; echo one > one-done",
    ),
    "workflows/workflow-two.yaml": flow("two", "cat one-done"),
  });
  const one = (await repo.cli(["workflow", "run", "one", "--detach"])).stdout.trim();
  await eventually(
    "one to hold its lock",
    async () => (await statusJson(repo, one)).locks?.includes("lock:deploy") ? true : undefined,
  );
  const two = (await repo.cli(["workflow", "run", "two", "--detach"])).stdout.trim();
  const waiting = await eventually("two to wait", async () => {
    const run = await statusJson(repo, two);
    return run.waiting?.lock ? run : undefined;
  });
  assertEquals(waiting.waiting, { lock: "lock:deploy", holderRunId: one });
  assertEquals(waiting.steps[0].status, "pending");
  await Deno.writeTextFile(`${repo.root}/release`, "");
  const finished = await eventually("two to end", async () => {
    const run = await statusJson(repo, two);
    return run.status === "succeeded" ? run : undefined;
  });
  assertEquals(finished.steps[0].outputs?.stdout, "one\n");
  assertEquals(finished.locks, []);
});
