// Extension model methods run through the real CLI: a sandboxed Deno
// subprocess per step that reaches data and vaults only through the
// capability service. Real repositories, real stores, real subprocesses.
import { assert, assertEquals, assertMatch, cliArgv } from "../helpers/mod.ts";
import { repoWith, statusJson, storeKinds } from "../helpers/runs.ts";

const bucket = `import { z } from "npm:zod@4";
export const model = {
  type: "@acme/bucket",
  version: "2026.12.01.1",
  globalArguments: z.object({ region: z.string() }),
  resources: { bucket: { description: "the bucket", schema: z.object({ arn: z.string(), region: z.string() }) } },
  methods: {
    create: {
      description: "create the bucket",
      arguments: z.object({ size: z.enum(["small", "large"]) }),
      execute: async (args, context) => {
        context.logger.info("creating", args.size, "in", context.globalArgs.region);
        const arn = "arn:aws:s3:::" + context.definition.name;
        const written = await context.writeResource("bucket", "main", { arn, region: context.globalArgs.region });
        return { arn, version: written.version, method: context.methodName };
      },
    },
  },
};
`;

const definition = `id: 6b1f1c3e-1111-4c6d-9e5f-1a2b3c4d5e6f
name: logs
version: 1
globalArguments:
  region: eu-west-1
methods:
  create:
    arguments:
      size: small
`;

const twoSteps = `id: 3f2c1d0e-8b7a-4c6d-9e5f-1a2b3c4d5e6f
name: buckets
jobs:
  - name: main
    steps:
      - name: create
        task: {type: model_method, modelIdOrName: logs, methodName: create}
      - name: show
        dependsOn:
          - step: create
            condition: {type: succeeded}
        task:
          type: model_method
          modelType: command/shell
          modelName: show
          methodName: execute
          inputs:
            run: "echo arn=\${{ steps.create.outputs.arn }} region=\${{ data.latest('logs', 'main').attributes.region }}"
`;

for (const store of storeKinds) {
  Deno.test(`${store}: an extension method writes a data item that the next step reads through data.latest`, async () => {
    await using repo = await repoWith(store, {
      "extensions/models/bucket.ts": bucket,
      "models/@acme/bucket/logs.yaml": definition,
      "workflows/workflow-buckets.yaml": twoSteps,
    });
    const run = await repo.cli(["workflow", "run", "buckets"]);
    assertEquals(run.code, 0, run.stdout + run.stderr);
    assertMatch(run.stdout + run.stderr, /info creating small in eu-west-1/);
    assertMatch(run.stdout + run.stderr, /arn=arn:aws:s3:::logs region=eu-west-1/);
    const runId = (run.stdout + run.stderr).match(/run ([0-9a-f-]{36}) succeeded/)![1];
    const status = await statusJson(repo, runId);
    const create = status.steps.find((s) => s.name === "create")!;
    assertEquals(create.reason, "wrote 1 data item (main v1)");
    assertEquals(create.outputs?.arn, "arn:aws:s3:::logs");
    assertEquals(create.outputs?.version, 1);
    assertEquals(create.outputs?.method, "create");
    const item = await repo.cli(["data", "get", "logs", "main", "--json"]);
    assertEquals(item.code, 0, item.stderr);
    const json = JSON.stringify(item.json);
    assertMatch(json, /"spec":"bucket"/);
    assert(json.includes(runId), json);
  });
}

const bad = `import { z } from "npm:zod@4";
const none = z.object({});
export const model = {
  type: "@acme/bad",
  version: "1",
  resources: { out: { description: "o", schema: z.object({ v: z.string() }) } },
  methods: {
    passwd: { description: "p", arguments: none, execute: async () => ({ t: await Deno.readTextFile("/etc/passwd") }) },
    socket: { description: "s", arguments: none, execute: async () => { await Deno.connect({ hostname: "127.0.0.1", port: 9 }); } },
    env: { description: "e", arguments: none, execute: async () => ({ home: Deno.env.get("HOME") }) },
    spec: { description: "u", arguments: none, execute: async (a, ctx) => { await ctx.writeResource("nope", "x", { v: "1" }); } },
    secret: { description: "v", arguments: none, execute: async (a, ctx) => ({ s: await ctx.vault.get("prod", "db") }) },
    forever: { description: "f", arguments: none, execute: async () => { while (true) {} } },
    big: { description: "b", arguments: none, execute: async (a, ctx) => { await ctx.writeResource("out", "big", { v: "y".repeat(100 * 1024 * 1024) }); } },
  },
};
`;

// Throws only when imported to run: the validation sandbox may read no variable.
const throwsAtImport =
  `export const model = { type: "@acme/throws", methods: { m: { description: "m", execute: async () => ({}) } } };
if (Deno.permissions.querySync({ name: "env", variable: "SWAMP_RUN_ID" }).state === "granted") {
  throw new Error("boom at import");
}
`;

const badStep = (name: string, more = "") =>
  `      - {name: ${name}, ${more}task: {type: model_method, modelType: "@acme/bad", modelName: b, methodName: ${name}}}\n`;

Deno.test("refused and broken extension methods: each step fails with a clear reason, the run is recorded, the rest runs", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bad.ts": bad,
    "extensions/models/throws.ts": throwsAtImport,
    "workflows/workflow-bad.yaml": `id: 3f2c1d0e-8b7a-4c6d-9e5f-1a2b3c4d5e70
name: bad
jobs:
  - name: main
    steps:
${badStep("passwd")}${badStep("socket")}${badStep("env")}${badStep("spec")}${badStep("secret")}${
      badStep("forever", "timeout: 3s, ")
    }${
      badStep("big")
    }      - {name: throws, task: {type: model_method, modelType: "@acme/throws", modelName: t, methodName: m}}
      - name: after
        task: {type: model_method, modelType: command/shell, modelName: a, methodName: execute, inputs: {run: "echo still here"}}
`,
  });
  const run = await repo.cli(["workflow", "run", "bad"], { SWAMP_CANCEL_GRACE_MS: "500" });
  assertEquals(run.code, 1, run.stdout + run.stderr);
  const runId = (run.stdout + run.stderr).match(/run ([0-9a-f-]{36}) failed/)![1];
  const steps = Object.fromEntries(
    (await statusJson(repo, runId)).steps.map((s) => [s.name, s]),
  );
  const reason = (name: string) => steps[name].reason ?? "";
  assertMatch(
    reason("passwd"),
    /permission denied: NotCapable: Requires read access to "\/etc\/passwd"/,
  );
  assertMatch(
    reason("socket"),
    /permission denied: NotCapable: Requires net access to "127\.0\.0\.1:9"/,
  );
  assertMatch(reason("env"), /permission denied: NotCapable: Requires env access to "HOME"/);
  assertMatch(reason("spec"), /resource spec nope is not declared/);
  assertMatch(
    reason("secret"),
    /permission_denied: secret prod\/db is not declared by step main\/secret/,
  );
  assertMatch(reason("forever"), /^step_timeout: /);
  assertMatch(reason("big"), /data_too_large: out\/big is 100 MiB of JSON/);
  assertMatch(reason("throws"), /import failed: Error: boom at import/);
  assertEquals(steps.after.status, "succeeded");
  for (const name of ["passwd", "socket", "env", "spec", "secret", "forever", "big", "throws"]) {
    assertEquals(steps[name].status, "failed", name);
  }
});

const flood = `export const model = {
  type: "@acme/flood",
  methods: {
    out: {
      description: "writes 1 GiB to stdout",
      execute: async () => {
        const line = new TextEncoder().encode("x".repeat((1 << 20) - 1) + "\\n");
        for (let i = 0; i < 1024; i++) await Deno.stdout.write(line);
        return { done: true };
      },
    },
  },
};
`;

Deno.test("an extension method that writes 1 GiB to stdout: the step's output is bounded, the run is recorded", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/flood.ts": flood,
    "workflows/workflow-flood.yaml": `id: 3f2c1d0e-8b7a-4c6d-9e5f-1a2b3c4d5e71
name: flood
jobs:
  - name: main
    steps:
      - {name: out, task: {type: model_method, modelType: "@acme/flood", modelName: f, methodName: out}}
`,
  });
  // The live display prints every line: it goes to /dev/null, not into this test's memory.
  const [program, ...args] = cliArgv(["workflow", "run", "flood", "--repo", repo.root]);
  const run = await new Deno.Command(program, {
    args,
    cwd: repo.root,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).output();
  assertEquals(run.code, 0);
  const list = await repo.cli(["workflow", "list", "--json"]);
  const runId = (list.json as { runs: { id: string }[] }).runs[0].id;
  const step = (await statusJson(repo, runId)).steps[0];
  assertEquals(step.status, "succeeded");
  assertEquals(step.outputs?.done, true);
});

Deno.test("an extension step under another executor (docker) is refused with what to do", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": bucket,
    "models/@acme/bucket/logs.yaml": definition,
    "workflows/workflow-indocker.yaml": `id: 3f2c1d0e-8b7a-4c6d-9e5f-1a2b3c4d5e72
name: indocker
jobs:
  - name: main
    executor: {type: docker, image: "alpine:3"}
    steps:
      - name: create
        task: {type: model_method, modelIdOrName: logs, methodName: create}
`,
  });
  const run = await repo.cli(["workflow", "run", "indocker"]);
  assertEquals(run.code, 1, run.stdout + run.stderr);
  const runId = (run.stdout + run.stderr).match(/run ([0-9a-f-]{36}) failed/)![1];
  const step = (await statusJson(repo, runId)).steps[0];
  assertMatch(step.reason ?? "", /not in the docker executor \(remove the executor block/);
});
