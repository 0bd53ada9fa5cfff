// `workflow validate` reads extension model types' schemas by importing each
// module in a sandboxed Deno subprocess, through the real CLI, in temporary
// repositories with real extension modules.
import { assert, assertEquals, assertMatch, repoWith } from "../helpers/mod.ts";
import { mintToken, startServe } from "../helpers/serve.ts";

const thing = `import { z } from "npm:zod@4";

export const model = {
  type: "@acme/bucket",
  version: "2026.01.01.1",
  globalArguments: z.object({
    region: z.string(),
    replicas: z.number().int().min(1).default(1),
  }),
  resources: {
    bucket: { description: "the bucket", schema: z.object({ arn: z.string() }) },
  },
  methods: {
    create: {
      description: "makes the bucket",
      arguments: z.object({ size: z.enum(["small", "large"]), public: z.boolean().optional() }),
      execute: async () => { throw new Error("never run by validate"); },
    },
  },
};
`;

const definition = `id: 2c9a0d1e-5b6f-4a7c-8d9e-0f1a2b3c4d5e
name: logs
version: 1
globalArguments:
  region: eu-west-1
methods:
  create:
    arguments:
      size: small
`;

const workflow = (steps: string) =>
  `id: 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
name: buckets
jobs:
  - name: main
    steps:
${steps}`;

const goodStep = `      - name: make
        task:
          type: model_method
          modelIdOrName: logs
          methodName: create
          inputs:
            public: \${{ inputs.public }}
`;

type Diag = { rule: string; file: string; line: number; message: string; severity: string };
type Validation = { results: { valid: boolean; diagnostics: Diag[] }[]; modelDiagnostics: Diag[] };

function found(json: unknown): string[] {
  const v = json as Validation;
  return [...v.modelDiagnostics, ...v.results.flatMap((r) => r.diagnostics)]
    .map((d) => `${d.file}:${d.line} ${d.severity} ${d.rule}`);
}

Deno.test("a good extension type validates its definitions and steps, and an unchanged repository imports nothing again", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": thing,
    "models/@acme/bucket/logs.yaml": definition,
    "workflows/workflow-buckets.yaml": workflow(goodStep),
  });
  const log = `${repo.root}/spawns.log`;
  const env = { SWAMP_EXTENSION_SPAWN_LOG: log };
  const first = await repo.cli(["workflow", "validate", "--all", "--json"], env);
  assertEquals(first.code, 0, first.stdout + first.stderr);
  assertEquals(found(first.json), []);
  assertEquals((await Deno.readTextFile(log)).trim().split("\n").length, 1);
  // The second validate finds the schemas in .swamp/cache/extensions/: no import at all.
  const second = await repo.cli(["workflow", "validate", "--all", "--json"], env);
  assertEquals(second.json, first.json);
  assertEquals((await Deno.readTextFile(log)).trim().split("\n").length, 1);
  // A changed module is imported again.
  await Deno.writeTextFile(`${repo.root}/extensions/models/bucket.ts`, `${thing}\n// changed\n`);
  await repo.cli(["workflow", "validate", "--all", "--json"], env);
  assertEquals((await Deno.readTextFile(log)).trim().split("\n").length, 2);
});

Deno.test("bad definition arguments, bad step arguments and an unknown method are reported at file:line", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": thing,
    "models/@acme/bucket/logs.yaml": definition.replace("region: eu-west-1", "region: 7") +
      "      colour: red\n",
    "workflows/workflow-buckets.yaml": workflow(`${goodStep}      - name: wrong
        task: {type: model_method, modelIdOrName: logs, methodName: create, inputs: {size: huge}}
      - name: missing
        task: {type: model_method, modelIdOrName: logs, methodName: destroy}
      - name: inline
        task: {type: model_method, modelType: "@acme/bucket", modelName: x, methodName: create, globalArgs: {region: 1}}
`),
  });
  const result = await repo.cli(["workflow", "validate", "--all", "--json"]);
  assertEquals(result.code, 3, result.stderr);
  assertEquals(found(result.json), [
    "models/@acme/bucket/logs.yaml:5 error wrong-type",
    "models/@acme/bucket/logs.yaml:10 error unknown-key",
    "workflows/workflow-buckets.yaml:14 error invalid-value",
    "workflows/workflow-buckets.yaml:16 error unknown-method",
    "workflows/workflow-buckets.yaml:18 error missing-key",
    "workflows/workflow-buckets.yaml:18 error wrong-type",
  ]);
  const text = await repo.cli(["workflow", "validate", "--all"]);
  assertMatch(
    text.stdout + text.stderr,
    /logs\.yaml:10:7: error\[unknown-key\]: unknown key `colour`/,
  );
  assertMatch(
    text.stdout + text.stderr,
    /hint: did you mean `small`\?|expected one of: small, large/,
  );
  assertMatch(text.stdout + text.stderr, /no method `destroy`/);
});

Deno.test("modules that throw, loop, read /etc/passwd, fetch or export no model are diagnostics; the rest validates", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": thing,
    "extensions/models/throws.ts": `throw new Error("boom at import");\nexport const model = {};\n`,
    "extensions/models/loops.ts": `while (true) {}\nexport const model = { type: "x/loop" };\n`,
    "extensions/models/passwd.ts":
      `const text = Deno.readTextFileSync("/etc/passwd");\nexport const model = { type: "x/p", methods: {} };\n`,
    "extensions/models/net.ts":
      `await fetch("http://example.com/");\nexport const model = { type: "x/n", methods: {} };\n`,
    "extensions/models/helper.ts": `export const shared = 1;\n`,
    "models/@acme/bucket/logs.yaml": definition,
    "workflows/workflow-buckets.yaml": workflow(goodStep),
    "workflows/workflow-uses-broken.yaml": `id: 9d4e5f60-7182-4a93-8b04-c5d6e7f80912
name: uses-broken
jobs:
  - name: main
    steps:
      - name: peek
        task: {type: model_method, modelType: x/p, modelName: p, methodName: run}
`,
  });
  const result = await repo.cli(["workflow", "validate", "--all", "--json"], {
    SWAMP_EXTENSION_TIMEOUT_MS: "3000",
  });
  assertEquals(result.code, 3, result.stderr);
  const v = result.json as Validation;
  assert(v.results[0].valid, JSON.stringify(v.results[0].diagnostics));
  // A step of a type whose module did not load says so.
  assertEquals(v.results[1].diagnostics.map((d) => [d.rule, d.message]), [[
    "unknown-model-type",
    "model type `x/p` is declared by extensions/models/passwd.ts, which did not load",
  ]]);
  const byFile = Object.fromEntries(v.modelDiagnostics.map((d) => [d.file, d]));
  assertEquals(
    Object.fromEntries(Object.entries(byFile).map(([f, d]) => [f, `${d.severity} ${d.rule}`])),
    {
      "extensions/models/helper.ts": "warning extension-no-model",
      "extensions/models/loops.ts": "error extension-timeout",
      "extensions/models/net.ts": "error extension-permission-denied",
      "extensions/models/passwd.ts": "error extension-permission-denied",
      "extensions/models/throws.ts": "error extension-import-failed",
    },
  );
  assertMatch(byFile["extensions/models/throws.ts"].message, /boom at import/);
  assertMatch(byFile["extensions/models/passwd.ts"].message, /\/etc\/passwd/);
  assertMatch(byFile["extensions/models/net.ts"].message, /net access/);
  assertMatch(byFile["extensions/models/loops.ts"].message, /did not finish within 3 s/);
  assertEquals(byFile["extensions/models/loops.ts"].line, 2);
});

Deno.test("validate through swamp serve checks extension types as a local validate does", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": thing,
    "extensions/models/throws.ts": `throw new Error("boom at import");\n`,
    "models/@acme/bucket/logs.yaml": definition.replace("size: small", "size: huge"),
    "workflows/workflow-buckets.yaml": workflow(goodStep),
  });
  const token = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root);
  try {
    const remote = await server.cli(["workflow", "validate", "--all", "--json"], token);
    const local = await repo.cli(["workflow", "validate", "--all", "--json"]);
    assertEquals(remote.code, 3, remote.stderr);
    assertEquals(found(remote.json), [
      "extensions/models/throws.ts:1 error extension-import-failed",
      "models/@acme/bucket/logs.yaml:9 error invalid-value",
    ]);
    assertEquals(remote.json, local.json);
  } finally {
    await server.kill();
  }
});
