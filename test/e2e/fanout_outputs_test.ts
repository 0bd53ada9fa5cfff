import { assert, assertEquals, assertMatch, repoWith } from "../helpers/mod.ts";

// What a fan-out hands to the steps after it (docs/design/0018-fan-out-outputs.md):
// its items' outputs in item order, each item by its resolved name, counts,
// and allowed failures that stay visible in status, events and the final line.

function shell(name: string, run: string, more = ""): string {
  return `      - name: ${
    JSON.stringify(name)
  }\n${more}        task:\n          type: model_method\n` +
    `          modelType: command/shell\n          modelName: m\n          methodName: execute\n` +
    `          inputs:\n            run: ${JSON.stringify(run)}\n`;
}

const fanout = `id: 7c0d3b9a-1f2e-4d5c-8b6a-0e1f2a3b4c5d
name: fanout
jobs:
  - name: main
    steps:
${
  shell(
    "deploy-${{ self.host }}",
    'echo "hi-${{ self.host }}"; test "${{ self.host }}" != b',
    "        allowFailure: true\n        forEach: {item: host, in: [a, b, c]}\n",
  )
}${
  shell(
    "plain",
    "echo p$SWAMP_ITEM_INDEX",
    "        forEach: {item: x, in: [x0, x1]}\n",
  )
}${
  shell(
    "after",
    [
      "echo n=${{ size(steps.deploy.outputs) }}",
      "first=${{ steps.deploy.outputs[0].stdout.trim() }}",
      "c=${{ steps['deploy-c'].outputs.stdout.trim() }}",
      "b=${{ steps['deploy-b'].status }}",
      "failed=${{ steps.deploy.counts.failed }}:${{ steps.deploy.failed.join(',') }}",
      "item1=${{ steps.deploy.names[1] }}",
      "plain=${{ steps.plain.outputs[1].stdout.trim() }}",
    ].join(" "),
    '        dependsOn:\n          - {step: "deploy-${{ self.host }}", condition: {type: completed}}\n' +
      "          - {step: plain, condition: {type: succeeded}}\n",
  )
}`;

Deno.test("a fan-out's outputs, its items by resolved name and its allowed failures reach the steps after it", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-fanout.yaml": fanout });
  const result = await repo.cli(["workflow", "run", "fanout"]);
  assertEquals(result.code, 0, result.stderr);
  assertMatch(
    result.stdout,
    /^\[main\/after\] n=3 first=hi-a c=hi-c b=failed failed=1:deploy-b item1=deploy-b plain=p1$/m,
  );
  // The final line says the run succeeded and that items failed, allowed.
  assertMatch(result.stderr, /run \S+ succeeded: 1 of 3 items failed \(allowed\)/);
  const runId = result.stdout.split("\n")[0];

  const status = await repo.cli(["workflow", "status", runId, "--json"]);
  const doc = status.json as {
    run: {
      status: string;
      reason?: string;
      steps: { id: string; status: string; reason: string }[];
    };
    fanOuts: {
      step: string;
      total: number;
      succeeded?: number;
      failed?: number;
      failedItems?: string[];
      allowFailure?: boolean;
    }[];
  };
  assertEquals(doc.run.status, "succeeded");
  const template = doc.run.steps.find((s) => s.id === "main/deploy-${{ self.host }}")!;
  assertEquals(template.status, "succeeded");
  assertEquals(template.reason, "3 items; 1 failed (allowed): deploy-b");
  assertEquals(doc.fanOuts, [
    {
      step: "main/deploy-${{ self.host }}",
      total: 3,
      succeeded: 2,
      failed: 1,
      failedItems: ["deploy-b"],
      allowFailure: true,
    },
    { step: "main/plain", total: 2, succeeded: 2 },
  ]);

  const human = await repo.cli(["workflow", "status", runId]);
  assertMatch(
    human.stdout,
    /deploy-\$\{\{ self\.host \}\}.*2 succeeded, 1 failed \(allowed\): deploy-b/,
  );

  // The run's events carry it: the forEach step's end, as `workflow run` follows it, named by
  // its stem (what later steps read it as), not its template.
  assertMatch(
    result.stderr,
    /^• main\/deploy succeeded +3 items; 1 failed \(allowed\): deploy-b$/m,
  );
  assert(!result.stderr.includes("${{"), "a line shows a raw template");
});

Deno.test("workflow evaluate resolves steps references to fan-outs and items as a run does", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-fanout.yaml": fanout });
  const result = await repo.cli(["workflow", "evaluate", "fanout", "--json"]);
  assertEquals(result.code, 0, result.stderr);
  const reasons = (result.json as { unresolved: { expression: string; reason: string }[] })
    .unresolved.filter((u) => u.expression.includes("steps")).map((u) => u.reason).join("\n");
  assertMatch(
    reasons,
    /steps\.deploy is forEach step `deploy-\$\{\{ self\.host \}\}`, its items' outputs in item order: 3 items \(deploy-a, deploy-b, deploy-c\)/,
  );
  assertMatch(reasons, /steps\["deploy-c"\] is item `deploy-c` of forEach step/);
  assertMatch(
    reasons,
    /steps\.plain is forEach step `plain`, its items' outputs in item order: 2 items/,
  );
});

Deno.test("a 1,000-item fan-out's outputs reach a downstream step whole and in item order", async () => {
  const hosts = Array.from({ length: 1000 }, (_, i) => `h${i}`);
  // The whole list crosses as JSON (a pure selection, no sandbox); the shell
  // checks every item's output is there, in item order.
  const sumScript = [
    "echo n=${{ size(steps.ping.outputs) }} ok=${{ steps.ping.counts.succeeded }}" +
    " last=${{ steps.ping.outputs[999].stdout.trim() }}" +
    " mid=${{ steps['ping-h500'].outputs.stdout.trim() }}",
    `got=$(printf %s "$OUTS" | grep -o '"stdout":"[0-9]*' | cut -d'"' -f4 | paste -sd, -)`,
    'test "$got" = "$(seq -s, 0 999)" && echo inorder=true',
  ].join("\n");
  const workflow = `id: ${crypto.randomUUID()}
name: wide
jobs:
  - name: main
    steps:
${
    shell(
      "ping-${{ self.host }}",
      "echo $SWAMP_ITEM_INDEX",
      `        forEach: {item: host, in: ${JSON.stringify(hosts)}}\n`,
    )
  }      - name: sum
        dependsOn: [{step: "ping-\${{ self.host }}", condition: {type: succeeded}}]
        task:
          type: model_method
          modelType: command/shell
          modelName: m
          methodName: execute
          inputs:
            env:
              OUTS: "list \${{ steps.ping.outputs }}"
            run: ${JSON.stringify(sumScript)}
`;
  await using repo = await repoWith("file", { "workflows/workflow-wide.yaml": workflow });
  const result = await repo.cli(["workflow", "run", "wide"], { SWAMP_MAX_CONCURRENT_STEPS: "32" });
  assertEquals(result.code, 0, result.stderr.slice(-2000));
  assertMatch(
    result.stdout,
    /^\[main\/sum\] n=1000 ok=1000 last=999 mid=500\n\[main\/sum\] inorder=true$/m,
  );
});
