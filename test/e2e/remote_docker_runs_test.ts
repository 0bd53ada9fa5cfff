// Placed docker steps end to end: a real `swamp serve` over TLS, real
// workers, some started with `--executor loopback,docker`, and a real Docker
// engine. A placed step whose `executor:` is docker runs in a labelled
// container on a worker that offers docker, with the block's environment
// (and none of the server's), and its output reaches the run; one whose
// labels only a loopback worker has waits, queued with the reason, and fails
// with queue_timeout; a cancel stops the container in stages and removes it.
import {
  assertEquals,
  assertMatch,
  caSignedCert,
  eventually,
  mintToken,
  repoWith,
  runIdOf,
  type RunJson,
  shellStep,
  startServe,
  statusJson,
  testCa,
} from "../helpers/mod.ts";
import { testNeeding } from "../helpers/capabilities.ts";
import { containersLabelled, ensureTestImage, TEST_IMAGE } from "../helpers/docker.ts";
import { mintWorkerToken, startWorker, type WorkerProcess } from "../helpers/worker.ts";

const inDocker = (more = "") => `{type: docker, image: "${TEST_IMAGE}"${more}}`;

const boxed = `id: 2f6c1a0e-4b7d-4e1f-8a92-3c4d5e6f7a81
name: boxed
jobs:
  - name: main
    steps:
${
  shellStep(
    "hello",
    'echo "$GREETING on $SWAMP_WORKER_ID in $(hostname) passed=${PASS_ME:-}"; head -1 /etc/passwd',
    `        executor: ${inDocker(', env: {GREETING: "hi"}')}\n        labels: {pool: "a"}\n`,
  )
}${
  shellStep(
    "after",
    'echo "saw ${{ steps.hello.outputs.stdout }}" | head -1',
    "        dependsOn: [{step: hello, condition: {type: succeeded}}]\n",
  )
}`;

const stranded = `id: 3a7d2b1f-5c8e-4f20-9ba3-4d5e6f7a8b92
name: stranded
jobs:
  - name: main
    executor: ${inDocker()}
    steps:
${shellStep("boxed", "echo never", '        labels: {pool: "b"}\n        queueTimeout: 4s\n')}`;

const slow = `id: 4b8e3c20-6d9f-4031-8cb4-5e6f7a8b9ca3
name: slow
jobs:
  - name: main
    steps:
${
  shellStep(
    "wait",
    "echo ready; trap '' INT; sleep 300",
    `        executor: ${inDocker()}\n        labels: {pool: "a"}\n`,
  )
}`;

const files = {
  "workflows/workflow-boxed.yaml": boxed,
  "workflows/workflow-stranded.yaml": stranded,
  "workflows/workflow-slow.yaml": slow,
};

/**
 * A server over TLS with a worker `w-box` (pool=a, loopback and docker) and
 * a worker `w-plain` (pool=b, loopback only); `env` is the server's.
 */
async function setup(env: Record<string, string> = {}) {
  await ensureTestImage();
  const repo = await repoWith("file", files);
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-docker-" });
  const ca = await testCa(dir);
  const cert = await caSignedCert(ca, dir);
  const token = await mintToken(repo.root, "runner", "operator");
  const server = await startServe(
    repo.root,
    ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile, "--pass-env", "PASS_ME"],
    { PASS_ME: "yes", ...env },
  );
  const trust = ["--ca-cert", ca.certFile];
  const workerToken = (name: string, label: string) => mintWorkerToken(repo.root, name, [label]);
  const workers: WorkerProcess[] = [];
  const connect = async (name: string, label: string, args: string[] = []) => {
    const worker = startWorker(server.url, [
      ...trust,
      "--token",
      await workerToken(name, label),
      "--cache-dir",
      `${dir}/${name}`,
      ...args,
    ]);
    workers.push(worker);
    return String((await worker.waitFor("connected")).workerId);
  };
  return {
    connect,
    workers,
    cli: (args: string[]) => server.cli(args, token, trust),
    async [Symbol.asyncDispose]() {
      for (const worker of workers) await worker[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
      await repo[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function noContainersOf(runId: string): Promise<void> {
  assertEquals(await containersLabelled({ "dev.swamp.run-id": runId }), [], "no container is left");
}

type Step = RunJson["steps"][0] & {
  placement?: { workerId?: string; workerName?: string };
  process?: { workerId?: string; containerId?: string };
};

await testNeeding(
  "docker",
  "a placed docker step runs in a container on a worker that offers docker; its output reaches the run",
  async () => {
    await using t = await setup();
    await t.connect("w-plain", "pool=b");
    const box = await t.connect("w-box", "pool=a", ["--executor", "loopback,docker"]);

    const listed = await t.cli(["worker", "list", "--json"]);
    assertEquals(listed.code, 0, listed.stderr);
    const offers = Object.fromEntries(
      (listed.json as { workers: { name: string; executors: string[] }[] }).workers
        .map((w) => [w.name, w.executors]),
    );
    assertEquals(offers, { "w-box": ["loopback", "docker"], "w-plain": ["loopback"] });
    const table = await t.cli(["worker", "list"]);
    assertMatch(table.stdout, /^w-box .* loopback,docker /m);

    const result = await t.cli(["workflow", "run", "boxed"]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const run = await statusJson({ cli: t.cli }, runIdOf(result));
    assertEquals(run.status, "succeeded", JSON.stringify(run));
    const step = (name: string) => run.steps.find((s) => s.name === name) as Step;
    const hello = step("hello");
    assertEquals(hello.placement?.workerName, "w-box");
    assertEquals(hello.process?.workerId, box);
    const containerId = hello.process?.containerId ?? "";
    assertMatch(containerId, /^[0-9a-f]{64}$/);
    // The container's hostname is its id; the block's env, none of the server's (--pass-env
    // reaches a docker step no more than the host's environment reaches a local one).
    const said = `hi on ${box} in ${containerId.slice(0, 12)} passed=\n`;
    assertEquals(hello.outputs?.stdout, `${said}root:x:0:0:root:/root:/bin/sh\n`);
    assertEquals(step("after").outputs?.stdout, `saw ${said}`);
    await noContainersOf(run.id);
  },
);

await testNeeding(
  "docker",
  "a docker step whose labels only a loopback worker has is queued with the reason, then fails with queue_timeout",
  async () => {
    await using t = await setup();
    await t.connect("w-plain", "pool=b");
    const started = await t.cli(["workflow", "run", "stranded", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = runIdOf(started);
    const reason = 'no connected worker that has labels {pool: "b"} offers the docker executor ' +
      "(it offers loopback); 1 worker connected";
    const queued = await eventually("the step to be queued", async () => {
      const step = (await statusJson({ cli: t.cli }, runId)).steps[0];
      return step.status === "queued" ? step : undefined;
    });
    assertEquals(queued.reason, `queued: ${reason}`);
    const run = await eventually("the run to fail", async () => {
      const run = await statusJson({ cli: t.cli }, runId);
      return run.status === "failed" ? run : undefined;
    });
    assertEquals(run.steps[0].status, "failed");
    assertMatch(run.steps[0].reason ?? "", /^queue_timeout: .*4000 ms.*offers the docker executor/);
    assertEquals(t.workers[0].events.filter((e) => e.event === "assigned"), []);
  },
);

await testNeeding(
  "docker",
  "a cancel of a placed docker step stops its labelled container in stages and removes it",
  async () => {
    await using t = await setup({ SWAMP_CANCEL_GRACE_MS: "500" });
    await t.connect("w-box", "pool=a", ["--executor", "docker"]);
    const started = await t.cli(["workflow", "run", "slow", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = runIdOf(started);
    const labels = {
      "dev.swamp.owned": "true",
      "dev.swamp.run-id": runId,
      "dev.swamp.step-id": "main/wait",
      "dev.swamp.job": "main",
      "dev.swamp.workflow": "slow",
      "dev.swamp.attempt": "1",
    };
    await eventually("the step to be running", async () => {
      const run = await statusJson({ cli: t.cli }, runId);
      return run.steps[0].status === "running" ? run : undefined;
    });
    const ids = await eventually("its container", async () => {
      const ids = await containersLabelled(labels);
      return ids.length > 0 ? ids : undefined;
    });
    assertEquals(ids.length, 1, "one container carries the run's labels");

    const cancelled = await t.cli(["workflow", "cancel", runId]);
    assertEquals(cancelled.code, 0, cancelled.stderr);
    const run = await eventually("the run to end cancelled", async () => {
      const run = await statusJson({ cli: t.cli }, runId);
      return run.status === "cancelled" ? run : undefined;
    });
    assertEquals(run.steps[0].status, "cancelled");
    const stages = run.cancelTimeline.map((s) => s.stage);
    // The step ignores SIGINT: the container is sent SIGTERM after the grace.
    assertEquals(stages.slice(0, 3), ["requested", "interrupted", "terminated"]);
    assertEquals(stages.at(-1), "confirmed");
    await noContainersOf(runId);
  },
);
