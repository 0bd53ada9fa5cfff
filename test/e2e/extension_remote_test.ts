// An extension model method placed on a remote worker: the worker fetches the
// repository's extension code as a bundle by fingerprint (and caches it), runs
// the method in its own sandbox, and reaches data and vault only through the
// orchestrator's capability service over its pinned TLS connection. The same
// workflow run on the orchestrator gives the same results. Real `swamp serve`,
// real worker processes, real TLS certificates made here.
import {
  assert,
  assertEquals,
  assertMatch,
  caSignedCert,
  mintToken,
  repoWith,
  runCli,
  runIdOf,
  startServe,
  statusJson,
  testCa,
} from "../helpers/mod.ts";
import { startWorker } from "../helpers/worker.ts";
import { vaultEnv, vaultPut } from "../helpers/vault.ts";

const secret = "Ext-remote-Secret-42x";

const bucket = `import { z } from "npm:zod@4";
export const model = {
  type: "@acme/bucket",
  version: "2026.12.04.1",
  globalArguments: z.object({ region: z.string(), key: z.string() }),
  resources: { bucket: { description: "the bucket", schema: z.object({ arn: z.string(), region: z.string() }) } },
  methods: {
    create: {
      description: "create the bucket",
      arguments: z.object({ size: z.enum(["small", "large"]) }),
      execute: async (args, context) => {
        const key = await context.vault.get("v", "k");
        context.logger.info("creating", args.size, "with key", key);
        const arn = "arn:aws:s3:::" + context.definition.name;
        const written = await context.writeResource("bucket", "main", { arn, region: context.globalArgs.region });
        return { arn, keyLength: key.length, method: context.methodName, wrote: written.name };
      },
    },
  },
};
`;

const definition = `id: 6b1f1c3e-2222-4c6d-9e5f-1a2b3c4d5e6f
name: logs
version: 1
globalArguments:
  region: eu-west-1
  key: '\${{ vault.get("v", "k") }}'
methods:
  create:
    arguments:
      size: small
`;

const workflow = (name: string, placement: string) =>
  `id: ${crypto.randomUUID()}
name: ${name}
jobs:
  - name: main
    steps:
      - name: create
${placement}        task: {type: model_method, modelIdOrName: logs, methodName: create}
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

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("an extension method placed on a worker runs from a bundle and gives what it gives on the orchestrator", async () => {
  await using repo = await repoWith("file", {
    "extensions/models/bucket.ts": bucket,
    "models/@acme/bucket/logs.yaml": definition,
    "workflows/workflow-here.yaml": workflow("here", ""),
    "workflows/workflow-far.yaml": workflow("far", '        labels: {pool: "far"}\n'),
    "workflows/workflow-old.yaml": workflow(
      "old",
      '        labels: {pool: "old"}\n        queueTimeout: 3\n',
    ),
  });
  const dir = await Deno.makeTempDir({ prefix: "swamp-ext-remote-" });
  try {
    const env = vaultEnv(dir);
    assertEquals((await repo.cli(["vault", "create", "v"], env)).code, 0);
    assertEquals((await vaultPut(repo.root, "v", "k", secret, env)).code, 0);
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir);
    const token = await mintToken(repo.root, "runner", "operator");
    await using server = await startServe(
      repo.root,
      ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
      env,
    );
    const trust = ["--ca-cert", ca.certFile];
    const made = await runCli(
      ["worker", "token", "create", "far", "--repo", repo.root, "-q", "--label", "pool=far"],
    );
    const cacheDir = `${dir}/worker`;
    await using worker = startWorker(server.url, [
      ...trust,
      "--token",
      made.stdout.trim(),
      "--cache-dir",
      cacheDir,
    ]);
    await worker.waitFor("connected");
    const cli = (args: string[]) => server.cli(args, token, trust);

    const results = [];
    for (const name of ["here", "far", "far"]) {
      const result = await cli(["workflow", "run", name]);
      assertEquals(result.code, 0, result.stdout + result.stderr);
      const run = await statusJson({ cli }, runIdOf(result));
      const logs = await cli(["workflow", "logs", run.id]);
      results.push({ result, run, logs: logs.stdout });
    }
    const [here, far, again] = results;
    const create = (r: typeof here) => r.run.steps.find((s) => s.name === "create")!;
    const show = (r: typeof here) => r.run.steps.find((s) => s.name === "show")!;
    // On the orchestrator and on the worker: the same outputs, the same data read back.
    for (const r of [here, far, again]) {
      const outputs = { ...create(r).outputs };
      delete outputs.data;
      assertEquals(outputs, {
        arn: "arn:aws:s3:::logs",
        keyLength: secret.length,
        method: "create",
        wrote: "main",
      });
      assertEquals(show(r).outputs?.stdout, "arn=arn:aws:s3:::logs region=eu-west-1\n");
      assertMatch(r.logs, /info creating small with key \*\*\*$/m);
    }
    assert(!create(here).placement, "the first run's step ran on the orchestrator");
    assertEquals(create(far).placement?.workerName, "far");
    assertEquals(create(again).placement?.workerName, "far");
    // Each write is a new version of the same item; the worker's writes name its lease.
    const versions = [here, far, again].map((r) =>
      (create(r).outputs?.data as { version: number }[])[0].version
    );
    assertEquals(versions, [1, 2, 3]);
    const item = await cli(["data", "get", "logs", "main", "--json"]);
    assertEquals(item.code, 0, item.stderr);
    assertEquals(
      (item.json as { item: { leaseId?: string } }).item.leaseId,
      create(again).placement?.leaseId,
    );

    // The bundle was fetched once, then taken from the cache by its fingerprint.
    const bundles = worker.events.filter((e) => e.event === "bundle");
    assertEquals(bundles.map((e) => e.cached), [false, true]);
    assertMatch(String(bundles[0].fingerprint), /^sha256:[0-9a-f]{64}$/);
    const cached = [...Deno.readDirSync(`${cacheDir}/bundles`)].map((e) => e.name);
    assertEquals(cached, [String(bundles[0].fingerprint).slice("sha256:".length)]);

    // A worker of protocol 1 would run the step's command, not the method: it never gets one.
    const oldToken = await runCli(
      ["worker", "token", "create", "old", "--repo", repo.root, "-q", "--label", "pool=old"],
    );
    await using old = startWorker(server.url, [
      ...trust,
      "--token",
      oldToken.stdout.trim(),
      "--cache-dir",
      `${dir}/old`,
    ], { SWAMP_WORKER_PROTOCOL_FOR_TESTS: "1-1" });
    assertEquals((await old.waitFor("connected")).protocolVersion, 1);
    const refused = await cli(["workflow", "run", "old"]);
    assertEquals(refused.code, 1, refused.stdout + refused.stderr);
    const oldRun = await statusJson({ cli }, runIdOf(refused));
    const queued = oldRun.steps.find((s) => s.name === "create")!;
    assertMatch(queued.reason ?? "", /queue timeout/);
    assertMatch(queued.reason ?? "", /speaks protocol 2 or later/);
    assertEquals(old.events.filter((e) => e.event === "assigned").length, 0);

    // The secret is nowhere in plain text: not in what the commands printed, the worker's
    // and the server's lines, the repository, or the worker's cache dir.
    const shown = results.flatMap((r) => [r.result.stdout, r.result.stderr, r.logs]);
    shown.push(JSON.stringify(server.events), JSON.stringify(worker.events), refused.stdout);
    for (const text of shown) assert(!text.includes(secret), `plain secret in:\n${text}`);
    for (const root of [repo.root, cacheDir]) {
      for await (const path of files(root)) {
        const text = new TextDecoder().decode(await Deno.readFile(path));
        assert(!text.includes(secret), `${path} holds the secret in plain text`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
