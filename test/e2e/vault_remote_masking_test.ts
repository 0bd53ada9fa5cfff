// A secret a placed step reads travels to the worker in the dispatch, and
// what the worker sends back is masked on the orchestrator before it is
// stored: a real `swamp serve` over TLS and a real worker.
import {
  assert,
  assertEquals,
  assertMatch,
  caSignedCert,
  mintToken,
  repoWith,
  runIdOf,
  shellStep,
  startServe,
  statusJson,
  testCa,
} from "../helpers/mod.ts";
import { mintWorkerToken, startWorker } from "../helpers/worker.ts";
import { vaultEnv, vaultPut } from "../helpers/vault.ts";

const secret = "Rm9-remote-Secret-value";

const workflow = `id: 8d3b2c0f-5e4f-4a81-9b2c-4d5e6f708192
name: remote
jobs:
  - name: main
    steps:
${
  shellStep(
    "far",
    'echo "worker got $TOKEN"; echo "and on stderr $TOKEN" >&2; exit 5',
    '        labels: {pool: "far"}\n',
  )
}            env: {TOKEN: '\${{ vault.get("v", "k") }}'}
`;

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("a remote step's output is masked on the orchestrator before it is stored", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-remote.yaml": workflow });
  const dir = await Deno.makeTempDir({ prefix: "swamp-vault-remote-" });
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
    const credential = await mintWorkerToken(repo.root, "far", ["pool=far"]);
    await using worker = startWorker(server.url, [
      ...trust,
      "--token",
      credential,
      "--cache-dir",
      `${dir}/worker`,
    ]);
    await worker.waitFor("connected");
    const cli = (args: string[]) => server.cli(args, token, trust);

    const result = await cli(["workflow", "run", "remote"]);
    assertEquals(result.code, 1, result.stdout + result.stderr);
    const run = await statusJson({ cli }, runIdOf(result));
    const step = run.steps.find((s) => s.name === "far")!;
    assertEquals(step.outputs?.stdout, "worker got ***\n");
    assert(step.placement, "the step ran on the worker");
    const logs = await cli(["workflow", "logs", run.id]);
    assertMatch(logs.stdout, /worker got \*\*\*$/m);
    assertMatch(logs.stdout, /and on stderr \*\*\*$/m);

    const shown = [result.stdout, result.stderr, logs.stdout, JSON.stringify(run)];
    for (const args of [["status", run.id, "--json"], ["logs", run.id, "--json"]]) {
      const out = await cli(["workflow", ...args]);
      shown.push(out.stdout, out.stderr);
    }
    shown.push(JSON.stringify(server.events), JSON.stringify(worker.events));
    for (const text of shown) assert(!text.includes(secret), `plain secret in:\n${text}`);
    for await (const path of files(repo.root)) {
      const text = new TextDecoder().decode(await Deno.readFile(path));
      assert(!text.includes(secret), `${path} holds the secret in plain text`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
