import { assertEquals, mintToken, startServe } from "../helpers/mod.ts";
import { repoWith, statusJson } from "../helpers/runs.ts";

// Run identity as a step's processes see it (DESIGN §9): a grandchild of a
// fan-out step inherits the SWAMP_* values, and they are the ids `status
// --json` reports. Placement selectors are evaluated with the same values,
// and only host variables the workflow declares reach its expressions.

// Runs a grandchild (a shell started by a shell the step started) that writes
// its SWAMP_* environment to the file named by $1.
const deepScript = `#!/bin/sh
sh -c 'env | grep "^SWAMP_" | sort > "$1"' grandchild "$1"
`;

const workflow = `id: 6f1b7a52-0c1e-4a51-9d1e-2b3c4d5e6f74
name: ident
reads:
  env: [SWAMP_TEST_REGION]
target: "pool-\${{ run.id }}"
labels: {run: "\${{ run.id }}", region: "\${{ env.SWAMP_TEST_REGION }}"}
jobs:
  - name: fan
    steps:
      - name: each \${{ self.host }}
        forEach: {item: host, in: [alpha, beta]}
        labels: {host: "\${{ self.host }}"}
        task:
          type: model_method
          modelType: command/shell
          modelName: each
          methodName: execute
          inputs:
            run: >-
              sh scripts/deep.sh "$PWD/item-$SWAMP_ITEM_INDEX.env" &&
              echo "region=\${{ env.SWAMP_TEST_REGION }} home=\${{ has(env.HOME) }}"
`;

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter(Boolean).map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );
}

Deno.test("a fan-out step's grandchild sees the identity status reports; env evaluates per run", async () => {
  // Without placement, so the steps run here (placed ones would wait for a remote worker:
  // the last test).
  const local = workflow
    .replace(/^target: .*\n^labels: .*\n/m, "")
    .replace(/^ +labels: \{host: .*\n/m, "");
  await using repo = await repoWith("file", {
    "workflows/workflow-ident.yaml": local,
    "scripts/deep.sh": deepScript,
  });
  // The actor comes from the credential: a token named ada, presented to a server.
  const ada = await mintToken(repo.root, "ada", "operator");
  await using server = await startServe(repo.root, [], { SWAMP_TEST_REGION: "eu-west-3" });
  const result = await server.cli(["workflow", "run", "ident", "--json"], ada);
  assertEquals(result.code, 0, result.stderr + result.stdout);
  const runId = (result.json as { run: { id: string } }).run.id;
  const run = await statusJson(repo, runId);
  const expansions = run.steps.filter((s) => (s.itemIndex ?? -1) >= 0);
  assertEquals(expansions.length, 2);
  for (const [index, host] of ["alpha", "beta"].entries()) {
    const step = expansions.find((s) => (s.itemIndex ?? 0) === index)!;
    const env = parseEnv(await Deno.readTextFile(`${repo.root}/item-${index}.env`));
    assertEquals(env.SWAMP_RUN_ID, runId);
    assertEquals(env.SWAMP_RUN_ATTEMPT, String(run.attempt ?? 1));
    assertEquals(env.SWAMP_WORKFLOW_NAME, "ident");
    assertEquals(env.SWAMP_WORKFLOW_ID, "6f1b7a52-0c1e-4a51-9d1e-2b3c4d5e6f74");
    assertEquals(env.SWAMP_ACTOR, "ada");
    assertEquals(env.SWAMP_EVENT_NAME, "manual");
    assertEquals(env.SWAMP_JOB_ID, step.job);
    assertEquals(env.SWAMP_JOB_NAME, "fan");
    assertEquals(env.SWAMP_STEP_ID, step.id);
    assertEquals(env.SWAMP_STEP_NAME, step.name);
    assertEquals(step.name, `each ${host}`);
    assertEquals(env.SWAMP_ITEM_INDEX, String(index));
    assertEquals(env.SWAMP_ITEM_KEY, "");
    assertEquals(env.SWAMP_WORKER_ID, "local");
    // Declared variables are there; the rest of the host's environment is not.
    assertEquals(step.outputs?.stdout, "region=eu-west-3 home=false\n");
  }
  // The same ids are in the run log, each line tagged with its step.
  const logs = await repo.cli(["workflow", "logs", runId, "--json"]);
  assertEquals(logs.code, 0, logs.stderr);
  const tagged = logs.stdout.split("\n").filter(Boolean)
    .map((line) => JSON.parse(line) as { stepId: string; text: string })
    .filter((l) => l.text.startsWith("region="));
  assertEquals(tagged.map((l) => l.stepId).sort(), expansions.map((s) => s.id).sort());
});

Deno.test("validate names an env variable a workflow reads without declaring it", async () => {
  const file = workflow.replace("reads:\n  env: [SWAMP_TEST_REGION]\n", "");
  await using repo = await repoWith("file", { "workflows/workflow-ident.yaml": file });
  const result = await repo.cli(["workflow", "validate", "ident", "--json"]);
  assertEquals(result.code, 3, result.stderr);
  const diagnostics = (result.json as {
    results: { diagnostics: { rule: string; message: string; hint: string; line: number }[] }[];
  }).results[0].diagnostics.filter((d) => d.rule === "env-undeclared");
  assertEquals(
    diagnostics.map((d) => [d.line, d.message, d.hint]),
    [
      [
        4,
        "`env.SWAMP_TEST_REGION` reads env.SWAMP_TEST_REGION, which the workflow does not declare",
        "add it to the workflow's `reads: {env: [SWAMP_TEST_REGION]}`; only declared variables reach expressions",
      ],
      [
        18,
        "`env.SWAMP_TEST_REGION` reads env.SWAMP_TEST_REGION, which the workflow does not declare",
        "add it to the workflow's `reads: {env: [SWAMP_TEST_REGION]}`; only declared variables reach expressions",
      ],
      [
        18,
        "`has(env.HOME)` reads env.HOME, which the workflow does not declare",
        "add it to the workflow's `reads: {env: [HOME]}`; only declared variables reach expressions",
      ],
    ],
  );
});

Deno.test("evaluate fills in declared env variables from the caller's environment", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-ident.yaml": workflow });
  const result = await repo.cli(["workflow", "evaluate", "ident", "--json"], {
    SWAMP_TEST_REGION: "ap-south-1",
  });
  assertEquals(result.code, 0, result.stderr);
  const out = result.json as {
    definition: { target: string; labels: Record<string, string> };
    unresolved: { expression: string }[];
  };
  assertEquals(out.definition.labels.region, "ap-south-1");
  assertEquals(out.definition.target, "pool-${{ run.id }}", "run values wait for a run");
  assertEquals(
    out.unresolved.map((u) => u.expression).includes("env.SWAMP_TEST_REGION"),
    false,
  );
});

// Placement selectors evaluate with the same per-run values. A placed step runs on a remote
// worker; with none connected it waits, queued, with its placement recorded, until its
// queueTimeout.
const placed = `id: 7a2c8b63-1d2f-4b62-8e2f-3c4d5e6f7a85
name: placed
reads:
  env: [SWAMP_TEST_REGION]
target: "pool-\${{ run.id }}"
labels: {run: "\${{ run.id }}", region: "\${{ env.SWAMP_TEST_REGION }}"}
queueTimeout: 1s
jobs:
  - name: fan
    steps:
      - name: each \${{ self.host }}
        forEach: {item: host, in: [alpha, beta]}
        labels: {host: "\${{ self.host }}"}
        task: {type: model_method, modelType: command/shell, modelName: each, methodName: execute, inputs: {run: "true"}}
`;

Deno.test("placement selectors are evaluated per run and recorded on a queued step", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-placed.yaml": placed });
  const ada = await mintToken(repo.root, "ada", "operator");
  await using server = await startServe(repo.root, [], { SWAMP_TEST_REGION: "eu-west-3" });
  const result = await server.cli(["workflow", "run", "placed", "--json"], ada);
  assertEquals(result.code, 1, result.stderr + result.stdout);
  const runId = (result.json as { run: { id: string } }).run.id;
  const run = await statusJson(repo, runId);
  const expansions = run.steps.filter((s) => (s.itemIndex ?? -1) >= 0);
  assertEquals(expansions.length, 2);
  for (const [index, host] of ["alpha", "beta"].entries()) {
    const step = expansions.find((s) => (s.itemIndex ?? 0) === index)!;
    assertEquals(step.name, `each ${host}`);
    // The step's own label merged over the workflow's, each evaluated.
    assertEquals({ target: step.placement?.target, labels: step.placement?.labels }, {
      target: `pool-${runId}`,
      labels: { run: runId, region: "eu-west-3", host },
    });
    assertEquals(step.reason?.startsWith("queue_timeout: "), true, step.reason);
  }
});
