// Steps placed on remote workers through the engine, end to end: a real
// `swamp serve` over TLS, two real workers with different labels, runs
// submitted with --server. Placement by label and by target, outputs from a
// remote step to a local one and back, SWAMP_WORKER_ID and --pass-env in the
// remote step's environment (and nothing else of the server's), a step whose
// labels nobody has queued with its reason and failed with queue_timeout;
// and a placed step in a local run failing at once with executor_unavailable.
import {
  assert,
  assertEquals,
  assertMatch,
  caSignedCert,
  mintToken,
  repoWith,
  runCli,
  runIdOf,
  type RunJson,
  shellStep,
  startServe,
  statusJson,
  testCa,
} from "../helpers/mod.ts";
import { startWorker } from "../helpers/worker.ts";

const flow = `id: 6a1e9f0c-2b3d-4c5e-8f70-1a2b3c4d5e6f
name: flow
jobs:
  - name: main
    steps:
${
  shellStep(
    "produce",
    'echo "made-on-$SWAMP_WORKER_ID"; echo "cwd=$PWD" >&2',
    '        labels: {pool: "a"}\n',
  )
}${
  shellStep(
    "local",
    'echo "local-saw-${{ steps.produce.outputs.stdout }}" | tr -d "\\n"; echo; echo "worker=[${SWAMP_WORKER_ID:-}]"',
    "        dependsOn: [{step: produce, condition: {type: succeeded}}]\n",
  )
}${
  shellStep(
    "consume",
    'echo "got=${{ steps.local.outputs.stdout }}" | head -1; echo "on=$SWAMP_WORKER_ID passed=${PASS_ME:-} leaked=${DO_NOT_PASS:-} run=$SWAMP_RUN_ID"',
    "        target: w-b\n        dependsOn: [{step: local, condition: {type: succeeded}}]\n",
  )
}`;

const gpu = `id: 7b2f0a1d-3c4e-4d6f-9a81-2b3c4d5e6f70
name: gpu
jobs:
  - name: main
    queueTimeout: 60
    steps:
${shellStep("train", "echo never", '        labels: {gpu: "true"}\n        queueTimeout: 4s\n')}`;

const files = { "workflows/workflow-flow.yaml": flow, "workflows/workflow-gpu.yaml": gpu };

async function workerToken(root: string, name: string, labels: string[]): Promise<string> {
  const made = await runCli(["worker", "token", "create", name, "--repo", root, "-q", ...labels]);
  if (made.code !== 0) throw new Error(`worker token create failed: ${made.stderr}`);
  return made.stdout.trim();
}

Deno.test("placed steps run on the workers they were placed on, with outputs flowing both ways", async () => {
  await using repo = await repoWith("file", files);
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-runs-" });
  try {
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir);
    const token = await mintToken(repo.root, "runner", "operator");
    await using server = await startServe(
      repo.root,
      ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile, "--pass-env", "PASS_ME"],
      { PASS_ME: "yes", DO_NOT_PASS: "secret" },
    );
    const trust = ["--ca-cert", ca.certFile];
    await using a = startWorker(server.url, [
      ...trust,
      "--token",
      await workerToken(repo.root, "w-a", ["--label", "pool=a"]),
      "--cache-dir",
      `${dir}/a`,
    ]);
    await using b = startWorker(server.url, [
      ...trust,
      "--token",
      await workerToken(repo.root, "w-b", ["--label", "pool=b"]),
      "--cache-dir",
      `${dir}/b`,
    ]);
    const cli = (args: string[]) => server.cli(args, token, trust);
    const idA = String((await a.waitFor("connected")).workerId);
    const idB = String((await b.waitFor("connected")).workerId);

    const result = await cli(["workflow", "run", "flow"]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const run = await statusJson(
      { cli },
      runIdOf(result),
    );
    const step = (name: string) => run.steps.find((s) => s.name === name)!;
    const placement = (name: string) =>
      step(name).placement as RunJson["steps"][0]["placement"] & {
        workerId?: string;
        workerName?: string;
        leaseId?: string;
        leaseEpoch?: number;
      };
    assertEquals(run.status, "succeeded", JSON.stringify(run));
    // By label: pool=a is only w-a. Its stdout reached the local step.
    assertEquals(step("produce").outputs?.stdout, `made-on-${idA}\n`);
    assertEquals(placement("produce")?.workerId, idA);
    assertEquals(placement("produce")?.workerName, "w-a");
    assertEquals(placement("produce")?.labels, { pool: "a" });
    assertEquals(placement("produce")?.leaseEpoch, 1);
    assert(placement("produce")?.leaseId, "the lease is recorded");
    const process = step("produce").process as { workerId?: string; leaseId?: string };
    assertEquals(process.workerId, idA);
    assertEquals(process.leaseId, placement("produce")?.leaseId);
    // The local step ran here (worker "local") with the remote step's output.
    assertEquals(
      step("local").outputs?.stdout,
      `local-saw-made-on-${idA}\nworker=[local]\n`,
    );
    assertEquals(step("local").placement, undefined);
    // By target: w-b, with the local step's output, the passed variable and nothing else.
    assertEquals(
      step("consume").outputs?.stdout,
      `got=local-saw-made-on-${idA}\non=${idB} passed=yes leaked= run=${run.id}\n`,
    );
    assertEquals(placement("consume")?.target, "w-b");
    assertEquals(placement("consume")?.workerId, idB);
    // The repository's directory is not sent: the worker ran it in its scratch dir.
    const logs = await cli(["workflow", "logs", run.id, "--step", "main/produce"]);
    assert(!logs.stdout.includes(`cwd=${repo.root}`), logs.stdout);
    assertMatch(logs.stdout, /cwd=.*lease-/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a step whose labels no worker has is queued with the reason, then fails with queue_timeout", async () => {
  await using repo = await repoWith("file", files);
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-queue-" });
  try {
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir);
    const token = await mintToken(repo.root, "runner", "operator");
    await using server = await startServe(repo.root, [
      "--tls-cert",
      cert.certFile,
      "--tls-key",
      cert.keyFile,
    ]);
    await using a = startWorker(server.url, [
      "--ca-cert",
      ca.certFile,
      "--token",
      await workerToken(repo.root, "w-a", ["--label", "pool=a"]),
      "--cache-dir",
      `${dir}/a`,
    ]);
    await a.waitFor("connected");
    const cli = (args: string[]) => server.cli(args, token, ["--ca-cert", ca.certFile]);
    const started = await cli(["workflow", "run", "gpu", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = runIdOf(started);
    const reason = 'no connected worker has labels {gpu: "true"}; 1 worker connected';
    let queued: RunJson["steps"][0] | undefined;
    for (let i = 0; i < 40 && !queued; i++) {
      const status = await cli(["workflow", "status", runId, "--json"]);
      const step = (status.json as { run: RunJson }).run.steps[0];
      if (step.status === "queued") queued = step;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert(queued, "the step never showed as queued");
    assertEquals(queued.reason, `queued: ${reason}`);
    const text = await cli(["workflow", "status", runId]);
    assert(text.stdout.includes(`queued: ${reason}`), text.stdout);

    // The step's own queueTimeout (4s) wins over its job's (60).
    let run: RunJson | undefined;
    for (let i = 0; i < 150 && run?.status !== "failed"; i++) {
      if (run) await new Promise((resolve) => setTimeout(resolve, 100));
      const status = await cli(["workflow", "status", runId, "--json"]);
      run = (status.json as { run: RunJson }).run;
    }
    assert(run);
    assertEquals(run.status, "failed");
    assertEquals(run.steps[0].status, "failed");
    assertMatch(run.steps[0].reason ?? "", /^queue_timeout: .*4000 ms.*gpu: "true"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a placed step in a local run fails at once with executor_unavailable and how to fix it", async () => {
  await using repo = await repoWith("file", files);
  const result = await repo.cli(["workflow", "run", "gpu"]);
  assertEquals(result.code, 1, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  assertEquals(run.steps[0].status, "failed");
  assertMatch(run.steps[0].reason ?? "", /^executor_unavailable: step main\/train is placed/);
  assertMatch(run.steps[0].reason ?? "", /swamp serve.*--server/);
});
