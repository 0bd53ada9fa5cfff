import { assert, assertEquals, repoWith } from "../helpers/mod.ts";

// `workflow validate` checks every expression (syntax, variables) in the
// sandbox without evaluating it, at the expression's own line and column.

const workflow = `id: 4f1b7a52-0c1e-4a51-9d1e-2b3c4d5e6f72
name: exprs
target: "\${{ runs.id }}"
jobs:
  - name: main
    steps:
      - name: a \${{ inputs.env }}
        guard: "\${{ inputs.skip && }}"
        forEach: {item: host, in: "\${{ inputs.hosts }}"}
        task: {type: model_method, modelType: command/shell, modelName: b, methodName: execute, inputs: {run: "echo \${{ input.env }} \${{ self.host }}"}}
      - name: check
        task: {type: assert, expr: "steps.a.status == 'succeeded' && run.attempt > 0", message: "x \${{ step.name }}"}
`;

Deno.test("validate reports each broken expression where it is, with a hint, and caches verdicts", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-exprs.yaml": workflow });
  const first = await repo.cli(["workflow", "validate", "exprs", "--json"]);
  assertEquals(first.code, 3, first.stderr);
  type Result = {
    diagnostics: { rule: string; line: number; column: number; message: string; hint: string }[];
  };
  const found = (first.json as { results: Result[] }).results[0].diagnostics
    .filter((d) => d.rule === "expression-invalid")
    .map((d) => [d.line, d.column, d.message, d.hint]);
  assertEquals(
    found,
    [
      [
        3,
        10,
        "`runs.id`: unknown variable: runs",
        "did you mean `run`?; a placement value that cannot resolve matches no worker",
      ],
      [
        8,
        17,
        "`inputs.skip &&`: <input>:1:13: found & but expecting end of input",
        "see docs/reference/workflow-file.md#expressions",
      ],
      [10, 112, "`input.env`: unknown variable: input", "did you mean `inputs`?"],
    ],
  );
  const cache = JSON.parse(
    await Deno.readTextFile(`${repo.root}/.swamp/cache/expression-checks.json`),
  );
  assert(Object.keys(cache).length >= 7, "every expression's verdict is kept");
  // The second time the verdicts come from the cache, and they are the same.
  const second = await repo.cli(["workflow", "validate", "exprs", "--json"]);
  assertEquals(second.json, first.json);
});

Deno.test("evaluate shows what inputs decide before a run, typed, and lists what only a run knows", async () => {
  const file = `id: 5f1b7a52-0c1e-4a51-9d1e-2b3c4d5e6f73
name: ahead
inputs:
  properties:
    env: {type: string, default: staging}
    hosts: {type: array}
jobs:
  - name: main
    steps:
      - name: ship \${{ inputs.env }}
        forEach: {item: host, in: "\${{ inputs.hosts }}"}
        task: {type: model_method, modelType: command/shell, modelName: b, methodName: execute, inputs: {run: "echo \${{ inputs.env }} \${{ run.id }}"}}
`;
  await using repo = await repoWith("file", { "workflows/workflow-ahead.yaml": file });
  const result = await repo.cli([
    "workflow",
    "evaluate",
    "ahead",
    "--input",
    'hosts=["a","b"]',
    "--json",
  ]);
  assertEquals(result.code, 0, result.stderr);
  const out = result.json as {
    inputs: Record<string, unknown>;
    definition: {
      jobs: {
        steps: { name: string; forEach: { in: unknown }; task: { inputs: { run: string } } }[];
      }[];
    };
    unresolved: { path: string; expression: string; reason: string }[];
  };
  assertEquals(out.inputs, { env: "staging", hosts: ["a", "b"] });
  const step = out.definition.jobs[0].steps[0];
  assertEquals(step.name, "ship staging");
  assertEquals(step.forEach.in, ["a", "b"], "a whole expression keeps its type");
  // A string with one expression that only a run knows is left whole, as written.
  assertEquals(step.task.inputs.run, "echo ${{ inputs.env }} ${{ run.id }}");
  assertEquals(out.unresolved, [{
    path: "jobs[0].steps[0].task.inputs.run",
    expression: "run.id",
    reason: "known only during a run (run)",
  }]);
  const text = await repo.cli([
    "workflow",
    "evaluate",
    "ahead",
    "--input",
    "env=prod",
    "--input",
    "hosts=[]",
  ]);
  assertEquals(text.code, 0, text.stderr);
  assert(text.stdout.includes("- name: ship prod"), text.stdout);
  assert(
    text.stderr.includes("jobs[0].steps[0].task.inputs.run: `run.id`: known only during a run"),
    text.stderr,
  );
});

Deno.test("expressions reading inputs the workflow does not declare are errors; unguarded optional ones warn", async () => {
  const step = (name: string, run: string) =>
    `      - name: ${name}
        task: {type: model_method, modelType: command/shell, modelName: ${name}, methodName: execute, inputs: {run: '${run}'}}
`;
  const text = `id: 4f1b7a52-0c1e-4a51-9d1e-2b3c4d5e6f73
name: refs
inputs:
  properties:
    env: {type: string}
    tag: {type: string}
    size: {type: integer, default: 3}
    "a(b": {type: string}
  required: [env]
jobs:
  - name: main
    steps:
${step("typo", "echo ${{ inputs.envv }}")}${
    step("bracket", `echo \${{ inputs["sise"] }} \${{ inputs["a(b"] }}`)
  }${step("optional", "echo ${{ inputs.tag }}")}${
    step("guarded", `echo \${{ has(inputs.tag) ? inputs.tag : "none" }}`)
  }${step("fine", "echo ${{ inputs.env }} ${{ inputs.size }} ${{ self.inputs.x }}")}`;
  await using repo = await repoWith("file", { "workflows/workflow-refs.yaml": text });
  const response = await repo.cli(["workflow", "validate", "refs", "--json"]);
  assertEquals(response.code, 3, response.stderr);
  type Found = { rule: string; severity: string; path: string; hint: string };
  const diagnostics = (response.json as { results: { diagnostics: Found[] }[] }).results[0]
    .diagnostics;
  const found = diagnostics.map((d) => [d.rule, d.severity, d.path, d.hint]);
  assertEquals(found, [
    ["unknown-input", "error", "jobs[0].steps[0].task.inputs.run", "did you mean `env`?"],
    ["unknown-input", "error", "jobs[0].steps[1].task.inputs.run", "did you mean `size`?"],
    [
      "optional-input",
      "warning",
      "jobs[0].steps[1].task.inputs.run",
      "give it a default, or make it required",
    ],
    [
      "optional-input",
      "warning",
      "jobs[0].steps[2].task.inputs.run",
      "guard it with has(inputs.tag), give it a default, or make it required",
    ],
  ]);
  // With additional properties allowed, any name may be given, so none is unknown.
  const open = text.replace("  required: [env]", "  required: [env]\n  additionalProperties: true");
  await Deno.writeTextFile(`${repo.root}/workflows/workflow-refs.yaml`, open);
  const lenient = await repo.cli(["workflow", "validate", "refs", "--json"]);
  assertEquals(lenient.code, 0, lenient.stderr);
  const rules = (lenient.json as { results: { diagnostics: Found[] }[] }).results[0].diagnostics
    .map((d) => d.rule);
  assertEquals(rules, ["optional-input", "optional-input"]);
});
