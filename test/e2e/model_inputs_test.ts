// Model definitions in swamp's form, run for real: a definition's `inputs`
// and its `${{ inputs.x }}` take the step's inputs (over the workflow's, over
// the definition's defaults); command/shell takes `environment` beside `env`;
// an extension type validates but a run refuses it, saying what is missing.
import { assertEquals, repoWith, statusJson } from "../helpers/mod.ts";

const greet = `name: greet
version: 1
inputs:
  properties:
    greeting: {type: string, default: hello}
    who: {type: string}
  required: [who]
globalArguments:
  run: echo "\${{ inputs.greeting }} \${{ inputs.who }} $COLOUR $SHAPE"
  environment: {COLOUR: blue, SHAPE: round}
  env: {SHAPE: square}
`;

const workflow = `id: 7b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f8
name: greetings
inputs:
  properties:
    who: {type: string, default: world}
jobs:
  - name: main
    steps:
      - name: from-step
        task: {type: model_method, modelIdOrName: greet, methodName: execute, inputs: {who: step}}
      - name: from-workflow
        task: {type: model_method, modelIdOrName: greet, methodName: execute}
      - name: both
        task: {type: model_method, modelIdOrName: greet, methodName: execute, inputs: {greeting: hi, who: "\${{ inputs.who }}-too"}}
`;

Deno.test("a definition's inputs take the step's values, then the workflow's, then its defaults; environment and env both set variables", async () => {
  await using repo = await repoWith("file", {
    "models/command/shell/greet.yaml": greet,
    "workflows/workflow-greetings.yaml": workflow,
  });
  const validated = await repo.cli(["workflow", "validate", "greetings", "--json"]);
  assertEquals(validated.code, 0, validated.stdout);
  const warnings = (validated.json as { modelDiagnostics: { rule: string }[] }).modelDiagnostics;
  assertEquals(warnings.map((d) => d.rule), ["missing-id"]);
  const result = await repo.cli(["workflow", "run", "greetings"]);
  assertEquals(result.code, 0, result.stderr);
  const run = await statusJson(repo, result.stdout.split("\n")[0]);
  const out = Object.fromEntries(run.steps.map((s) => [s.id, String(s.outputs?.stdout)]));
  assertEquals(out, {
    "main/from-step": "hello step blue square\n",
    "main/from-workflow": "hello world blue square\n",
    "main/both": "hi world-too blue square\n",
  });
});

Deno.test("a required definition input that nothing gives is reported; a missing model instance only warns", async () => {
  await using repo = await repoWith("file", {
    "models/command/shell/greet.yaml": greet,
    "workflows/workflow-greetings.yaml": workflow.replace(/inputs:\n {2}properties:\n.*\n/, ""),
  });
  const result = await repo.cli(["workflow", "validate", "greetings", "--json"]);
  type V = { results: { diagnostics: { rule: string; severity: string; line: number }[] }[] };
  const found = (result.json as V).results[0].diagnostics.map((d) =>
    `${d.line} ${d.severity} ${d.rule}`
  );
  assertEquals(found, ["9 error missing-input"]);

  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-greetings.yaml`,
    workflow.replace(
      "modelIdOrName: greet, methodName: execute}",
      "modelIdOrName: later, methodName: execute}",
    ),
  );
  const later = await repo.cli(["workflow", "validate", "greetings", "--json"]);
  assertEquals(later.code, 0, later.stdout);
  assertEquals((later.json as V).results[0].diagnostics.map((d) => `${d.severity} ${d.rule}`), [
    "warning unknown-model",
  ]);
});

Deno.test("a step of an extension type validates, and a run calls its method with the step's inputs", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/echo.ts": `import { z } from "npm:zod";
export const model = {
  type: "@acme/echo",
  version: "1",
  methods: { say: { description: "says", arguments: z.object({ text: z.string() }), execute: async (args) => ({ said: args.text }) } },
};
`,
    "workflows/workflow-echo.yaml": `id: 8c3d4e5f-6071-4b82-9ca3-b4c5d6e7f809
name: echo
jobs:
  - name: main
    steps:
      - name: say
        task: {type: model_method, modelType: "@acme/echo", modelName: e, methodName: say, inputs: {text: hi}}
`,
  });
  const validated = await repo.cli(["workflow", "validate", "echo", "--json"]);
  assertEquals(validated.code, 0, validated.stdout);
  const result = await repo.cli(["workflow", "run", "echo"]);
  assertEquals(result.code, 0, result.stderr);
  const run = await statusJson(repo, result.stdout.split("\n")[0]);
  assertEquals(run.steps[0].status, "succeeded");
  assertEquals(run.steps[0].outputs?.said, "hi");
});

Deno.test("an optional input the run was not given fails the step that reads it, saying how to guard it", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-tagged.yaml": `id: 7b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f9
name: tagged
inputs:
  properties:
    tag: {type: string}
jobs:
  - name: main
    steps:
      - name: show
        task: {type: model_method, modelType: command/shell, modelName: show, methodName: execute, inputs: {run: "echo \${{ inputs.tag }}"}}
`,
  });
  const bare = await repo.cli(["workflow", "run", "tagged"]);
  assertEquals(bare.code, 1, bare.stderr);
  const failed = await statusJson(repo, bare.stdout.split("\n")[0]);
  const reason = String(failed.steps[0].reason ?? "");
  assertEquals(
    reason.endsWith(
      "(no input `tag` was given: declare a default for it, or guard with has(inputs.tag))",
    ),
    true,
    reason,
  );
  const given = await repo.cli(["workflow", "run", "tagged", "--input", "tag=v2"]);
  assertEquals(given.code, 0, given.stderr);
});
