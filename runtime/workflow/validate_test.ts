import { assert, assertEquals, makeTempRepo, runServiceFor } from "../../test/helpers/mod.ts";
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";

const uuid = "0b7d4e1c-2f6a-4c1e-9a43-5d2b8e6f7a10";

function shellStep(name: string, extra = "") {
  return `      - name: ${name}
        task:
          type: model_method
          modelType: command/shell
          modelName: ${name}
          methodName: execute
          inputs:
            run: echo ${name}
${extra}`;
}

async function validate(files: Record<string, string | Uint8Array>, workflow = "") {
  await using repo = await makeTempRepo(files);
  const service = await runServiceFor(repo.root);
  const response = await service.validateWorkflows(
    workflow ? { workflows: [workflow] } : { all: true },
  );
  return response;
}

function rules(response: Awaited<ReturnType<typeof validate>>) {
  return response.results.flatMap((r) =>
    r.diagnostics.map((d) => `${d.rule}@${d.line}:${d.column}`)
  );
}

Deno.test("a well-formed workflow with step dependencies is valid", async () => {
  const text = `id: ${uuid}
name: ok
jobs:
  - name: build
    steps:
${shellStep("a")}${
    shellStep(
      "b",
      "        dependsOn:\n          - step: a\n            condition: {type: succeeded}\n",
    )
  }`;
  const response = await validate({ "workflows/workflow-ok.yaml": text });
  assertEquals(rules(response), []);
  assert(response.results[0].valid);
});

Deno.test("unknown keys are reported at the key with a did-you-mean hint", async () => {
  const text = `id: ${uuid}
name: typo
jbos: []
jobs:
  - name: build
    steps:
${shellStep("a", "        dependOn: []\n")}`;
  const response = await validate({ "workflows/workflow-typo.yaml": text });
  const diagnostics = response.results[0].diagnostics;
  assertEquals(diagnostics.map((d) => [d.rule, d.line, d.column, d.hint]), [
    ["unknown-key", 3, 1, "did you mean `jobs`?"],
    ["unknown-key", 15, 9, "did you mean `dependsOn`?"],
  ]);
  assertEquals(diagnostics[1].path, "jobs[0].steps[0].dependOn");
  assert(!response.results[0].valid);
});

Deno.test("all problems of one file are reported, not only the first", async () => {
  const text = `id: nope
name: many
jobs:
  - name: a
    dependsOn:
      - job: missing
        condition: {type: succeeded}
    steps:
${
    shellStep(
      "s1",
      "        dependsOn:\n          - step: s2\n            condition: {type: always}\n",
    )
  }${
    shellStep(
      "s2",
      "        dependsOn:\n          - step: s1\n            condition: {type: always}\n",
    )
  }  - name: a
    steps:
      - name: t
        task: {type: model_method, modelIdOrName: nothing, methodName: execute}
`;
  const response = await validate({ "workflows/workflow-many.yaml": text });
  const found = response.results[0].diagnostics.map((d) => d.rule).sort();
  assertEquals(found, [
    "dependency-cycle",
    "duplicate-name",
    "invalid-value",
    "unknown-dependency",
    "unknown-model",
  ]);
  const cycle = response.results[0].diagnostics.find((d) => d.rule === "dependency-cycle")!;
  assert(cycle.message.includes("s1 → s2 → s1"), cycle.message);
});

Deno.test("cycles between jobs are reported with the path", async () => {
  const job = (name: string, after: string) =>
    `  - name: ${name}\n    dependsOn:\n      - job: ${after}\n        condition: {type: succeeded}\n    steps:\n${
      shellStep(`${name}-s`)
    }`;
  const text = `id: ${uuid}\nname: loop\njobs:\n${job("x", "z")}${job("y", "x")}${job("z", "y")}`;
  const response = await validate({ "workflows/workflow-loop.yaml": text });
  const messages = response.results[0].diagnostics.map((d) => d.message);
  assertEquals(messages.length, 1);
  assert(/x → z → y → x|y → x → z → y|z → y → x → z/.test(messages[0]), messages[0]);
});

Deno.test("model references: definitions, types, methods and arguments are checked", async () => {
  const definition = `id: 5e0b3f59-3f4c-4d64-8f0e-7f7b9a2c1d11
name: greeter
version: 1
methods:
  execute:
    arguments:
      run: echo hi
`;
  const text = `id: ${uuid}
name: models
jobs:
  - name: j
    steps:
      - name: by-name
        task: {type: model_method, modelIdOrName: greeter, methodName: execute}
      - name: bad-type
        task: {type: model_method, modelType: command/shel, modelName: x, methodName: execute}
      - name: bad-method
        task: {type: model_method, modelIdOrName: greeter, methodName: exec}
      - name: bad-arg
        task: {type: model_method, modelType: command/shell, modelName: y, methodName: execute, inputs: {rn: x}}
`;
  const response = await validate({
    "models/command/shell/greeter.yaml": definition,
    "workflows/workflow-models.yaml": text,
  });
  const found = response.results[0].diagnostics.map((d) => `${d.rule}:${d.hint}`);
  assertEquals(found, [
    "unknown-model-type:did you mean `command/shell`?",
    "unknown-method:did you mean `execute`?",
    "missing-argument:set `inputs.run` on the step or in the model definition's arguments",
    "unknown-argument:did you mean `run`?",
  ]);
  assertEquals(response.modelDiagnostics, []);
});

Deno.test("bad input never throws: malformed, binary, empty and oversized files", async () => {
  const big = new Uint8Array(50 * 1024 * 1024).fill(0x61);
  const response = await validate({
    "workflows/malformed.yaml": "id: [unclosed\nname: x\n",
    "workflows/binary.yaml": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]),
    "workflows/empty.yaml": "\n\n",
    "workflows/huge.yaml": big,
    "workflows/list.yaml": "- a\n- b\n",
    "workflows/latin1.yaml": new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]),
    "workflows/aliases.yaml": aliasBomb(),
    "workflows/two-docs.yaml": "name: a\n---\nname: b\n",
  });
  const byFile = Object.fromEntries(
    response.results.map((r) => [r.file, r.diagnostics.map((d) => d.rule)]),
  );
  assertEquals(byFile, {
    "workflows/aliases.yaml": ["too-many-nodes"],
    "workflows/two-docs.yaml": ["yaml-syntax"],
    "workflows/binary.yaml": ["not-text"],
    "workflows/empty.yaml": ["empty-file"],
    "workflows/huge.yaml": ["file-too-large"],
    "workflows/latin1.yaml": ["not-text"],
    "workflows/list.yaml": ["not-a-map"],
    "workflows/malformed.yaml": byFile["workflows/malformed.yaml"],
  });
  const malformed = response.results.find((r) => r.file === "workflows/malformed.yaml")!;
  assert(
    malformed.diagnostics.length > 0 &&
      malformed.diagnostics.every((d) => d.rule === "yaml-syntax"),
  );
  assert(malformed.diagnostics[0].line > 0);
  assert(response.results.every((r) => !r.valid));
});

Deno.test("validation writes nothing to the repository", async () => {
  await using repo = await makeTempRepo({ "workflows/bad.yaml": "jobs: [\n" });
  const before = await snapshot(repo.root);
  await (await runServiceFor(repo.root)).validateWorkflows({ all: true });
  assertEquals(await snapshot(repo.root), before);
});

Deno.test("a workflow of 10,000 steps validates completely", async () => {
  const steps: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const dep = i === 0
      ? ""
      : `        dependsOn: [{step: s${i - 1}, condition: {type: succeeded}}]\n`;
    steps.push(
      `      - name: s${i}\n${dep}        task: {type: model_method, modelType: command/shell, modelName: m, methodName: execute, inputs: {run: "true"}}\n`,
    );
  }
  steps.push("      - name: s0\n        task: {type: assert, expr: 'true', message: dup}\n");
  const text = `id: ${uuid}\nname: big\njobs:\n  - name: j\n    steps:\n${steps.join("")}`;
  const response = await validate({ "workflows/workflow-big.yaml": text });
  const diagnostics = response.results[0].diagnostics;
  // 5 header lines, 2 lines for the first step, 3 for each of the other 9,999.
  const duplicateLine = 5 + 2 + 9_999 * 3 + 1;
  assertEquals(diagnostics.map((d) => [d.rule, d.line]), [["duplicate-name", duplicateLine]]);
});

Deno.test("keys swamp accepts but this version ignores are warnings, not errors", async () => {
  const text = `id: ${uuid}
name: compat
trigger: {schedule: "0 * * * *"}
jobs:
  - name: j
    weight: 2
    steps:
${shellStep("a", "        writes: true\n")}`;
  const response = await validate({ "workflows/workflow-compat.yaml": text });
  const result = response.results[0];
  assert(result.valid);
  assertEquals(result.diagnostics.map((d) => [d.rule, d.severity]), [
    ["not-supported", Severity.WARNING],
    ["not-supported", Severity.WARNING],
  ]);
});

/** Nine levels of ten aliases each: a billion values from a few hundred bytes. */
function aliasBomb(): string {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++) {
    lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  return lines.join("\n") + "\n";
}

async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    const stat = await Deno.stat(`${root}/${entry.name}`);
    out.push(`${entry.name}:${stat.size}:${stat.mtime?.getTime()}`);
    if (entry.isDirectory) {
      out.push(...(await snapshot(`${root}/${entry.name}`)).map((p) => `${entry.name}/${p}`));
    }
  }
  return out.sort();
}

Deno.test("a step placed on a worker may run in docker there", async () => {
  const text = `id: ${uuid}
name: placed
executor: {type: docker, image: busybox}
jobs:
  - name: build
    labels: {gpu: "true"}
    steps:
${shellStep("in-docker-on-a-worker")}${
    shellStep("in-loopback-on-a-worker", "        executor: {type: loopback}\n")
  }  - name: local
    steps:
${shellStep("in-docker-here")}`;
  const response = await validate({ "workflows/workflow-placed.yaml": text });
  assertEquals(response.results[0].diagnostics.map((d) => d.message), []);
  assert(response.results[0].valid);
});

Deno.test("swamp's old driver and driverConfig get a diagnostic saying what to write instead", async () => {
  const text = `id: ${uuid}
name: old
driver: raw
jobs:
  - name: build
    steps:
${
    shellStep(
      "a",
      "        driver: docker\n        driverConfig:\n          image: alpine\n        dependOn: []\n",
    )
  }`;
  const response = await validate({ "workflows/workflow-old.yaml": text });
  const diagnostics = response.results[0].diagnostics;
  assertEquals(diagnostics.map((d) => [d.rule, d.line, d.column]), [
    ["legacy-driver", 3, 1],
    ["legacy-driver", 15, 9],
    ["legacy-driver", 16, 9],
    ["unknown-key", 18, 9],
  ]);
  assertEquals(diagnostics[1].path, "jobs[0].steps[0].driver");
  assert(diagnostics[1].message.includes("`driver` in `jobs[0].steps[0]`"), diagnostics[1].message);
  assert(diagnostics[1].hint.includes("`executor: {type: docker, image: …}`"), diagnostics[1].hint);
  assert(diagnostics[1].hint.includes("`labels:` or `target:`"), diagnostics[1].hint);
  assert(diagnostics[0].hint.includes("`executor: {type: loopback}`"), diagnostics[0].hint);
  assert(diagnostics[0].message.includes("in the workflow"), diagnostics[0].message);
  assertEquals(diagnostics[3].hint, "did you mean `dependsOn`?");
  assert(!response.results[0].valid);
});

Deno.test("a bare name in dependsOn is one problem, the explained one", async () => {
  const text = `id: ${uuid}
name: bare
jobs:
  - name: build
    steps:
${shellStep("a")}${shellStep("b", "        dependsOn: [a]\n")}`;
  const response = await validate({ "workflows/bare.yaml": text });
  const found = response.results[0].diagnostics;
  assertEquals(found.map((d) => [d.rule, d.path]), [[
    "wrong-type",
    "jobs[0].steps[1].dependsOn[0]",
  ]]);
  assert(found[0].hint.includes("{step: a, condition: {type: succeeded}}"), found[0].hint);
});
