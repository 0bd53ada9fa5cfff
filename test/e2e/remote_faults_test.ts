// Lost workers through the engine, end to end: a real `swamp serve` over TLS
// with a short grace window, real workers, runs submitted with --server and
// `kill -9` of the worker that runs a placed step. A step that wrote nothing
// runs again on the other worker and the run succeeds, the step having run
// to completion once; a step that wrote fails the run with worker_lost (the
// write-then-fail rule). "Wrote" is marked on the lease in the store, as the
// capability service does when a step writes data.
import {
  assertEquals,
  assertMatch,
  caSignedCert,
  eventually,
  groupAlive,
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
import { startWorker, type WorkerProcess } from "../helpers/worker.ts";
import { openRepoStore } from "../../cli/wiring.ts";

type StepJson = RunJson["steps"][0] & {
  placement?: { workerName?: string; leaseId?: string; leaseEpoch?: number };
};

/** One placed step that says `ready`, waits for `DIR/go`, then marks which worker finished it. */
const lostFlow = (dir: string, extra = "") =>
  `id: 8c3a1b2d-4e5f-4a6b-9c7d-3e4f5a6b7c8d
name: lost
jobs:
  - name: main
    steps:
${
    shellStep(
      "work",
      `echo ready; while [ ! -e ${dir}/go ]; do sleep 0.05; done; echo "$SWAMP_WORKER_ID" >> ${dir}/marks; echo finished`,
      `        labels: {pool: "x"}\n${extra}`,
    )
  }`;

interface Setup {
  cli(args: string[]): Promise<{ code: number; json: unknown; stdout: string; stderr: string }>;
  worker(name: string): Promise<WorkerProcess>;
  root: string;
}

/** serve over TLS with a 1 s grace window, and a way to connect workers labelled pool=x. */
async function withServe(dir: string, body: (s: Setup) => Promise<void>, extra = "") {
  await using repo = await repoWith("file", {
    "workflows/workflow-lost.yaml": lostFlow(dir, extra),
  });
  const ca = await testCa(dir);
  const cert = await caSignedCert(ca, dir);
  const token = await mintToken(repo.root, "runner", "operator");
  await using server = await startServe(repo.root, [
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
    "--worker-grace",
    "1s",
  ]);
  const trust = ["--ca-cert", ca.certFile];
  const workers: WorkerProcess[] = [];
  try {
    await body({
      root: repo.root,
      cli: (args) => server.cli(args, token, trust),
      worker: async (name) => {
        const made = await runCli(
          ["worker", "token", "create", name, "--repo", repo.root, "-q", "--label", "pool=x"],
        );
        if (made.code !== 0) throw new Error(`worker token create failed: ${made.stderr}`);
        const worker = startWorker(server.url, [
          ...trust,
          "--token",
          made.stdout.trim(),
          "--cache-dir",
          `${dir}/${name}`,
        ]);
        workers.push(worker);
        await worker.waitFor("connected");
        return worker;
      },
    });
  } finally {
    for (const worker of workers) await worker[Symbol.asyncDispose]();
  }
}

/** Polls the run until `ready` holds of its only step (or fails after 30 s). */
async function stepWhen(
  s: Setup,
  runId: string,
  ready: (step: StepJson, run: RunJson) => boolean,
): Promise<{ run: RunJson; step: StepJson }> {
  let last: RunJson | undefined;
  for (let i = 0; i < 300; i++) {
    last = await statusJson(s, runId);
    const step = last.steps[0] as StepJson;
    if (ready(step, last)) return { run: last, step };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the run never got there: ${JSON.stringify(last)}`);
}

/** Worker w1 alone, and the run of `lost` started: its step running there. */
async function runningOnW1(s: Setup) {
  const w1 = await s.worker("w1");
  const started = await s.cli(["workflow", "run", "lost", "--detach"]);
  assertEquals(started.code, 0, started.stderr);
  const runId = runIdOf(started);
  const first = await stepWhen(
    s,
    runId,
    (step) => step.status === "running" && (step.process?.pgid ?? 0) > 0,
  );
  assertEquals(first.step.placement?.workerName, "w1");
  return { w1, runId, first };
}

/** The first machine dies: its worker and the step it ran (a worker killed alone leaves its step). */
function machineDies(worker: WorkerProcess, step: StepJson) {
  worker.signal("SIGKILL");
  Deno.kill(-step.process!.pgid, "SIGKILL");
}

Deno.test("kill -9 of a worker in a placed step that wrote nothing: the run succeeds on the other worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-lost-" });
  try {
    await withServe(dir, async (s) => {
      const { w1, runId, first } = await runningOnW1(s);
      await s.worker("w2");
      machineDies(w1, first.step);
      await Deno.writeTextFile(`${dir}/go`, "");

      const end = await stepWhen(s, runId, (_, run) => run.status !== "running");
      assertEquals(end.run.status, "succeeded", JSON.stringify(end.run));
      assertEquals(end.step.attempt, 2);
      assertEquals(end.step.placement?.workerName, "w2");
      assertEquals(end.step.placement?.leaseEpoch, 2);
      assertEquals(end.step.outputs?.stdout, "ready\nfinished\n");
      const marks = (await Deno.readTextFile(`${dir}/marks`)).trim().split("\n");
      assertEquals(marks.length, 1, "the step ran to completion once");
      const logs = await s.cli(["workflow", "logs", runId]);
      assertMatch(logs.stdout, /redispatched as attempt 2: .*worker w-\w+ was lost/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kill -9 of a worker in a placed step that wrote: the run fails with worker_lost, retry or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-wrote-" });
  try {
    await withServe(dir, async (s) => {
      const { w1, runId, first } = await runningOnW1(s);
      await s.worker("w2"); // free for a re-dispatch, which must not happen
      // What the capability service does when the step writes data: mark its lease.
      const store = await openRepoStore(s.root);
      try {
        assertEquals(await store.markLeaseWritten(first.step.placement!.leaseId!), true);
      } finally {
        await store.close();
      }
      machineDies(w1, first.step);
      await Deno.writeTextFile(`${dir}/go`, "");

      const end = await stepWhen(s, runId, (_, run) => run.status !== "running");
      assertEquals(end.run.status, "failed", JSON.stringify(end.run));
      assertEquals(end.step.status, "failed");
      assertEquals(end.step.attempt ?? 1, 1);
      assertMatch(
        end.step.reason ?? "",
        /^worker_lost: .*after the step had written.*write-then-fail rule/,
      );
      assertEquals(await Deno.stat(`${dir}/marks`).then(() => true, () => false), false);
      // `retry:` does not get round the write-then-fail rule (docs/design/0017).
      assertEquals(end.step.retry, { attempt: 1, attempts: 3 });
    }, "        retry: {attempts: 3}\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A loopback port nothing listens on now, for a server restarted at the same address. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("kill -9 of swamp serve in a placed step: the run is abandoned, and the restarted server has the worker kill the step", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-remote-owner-" });
  try {
    await using repo = await repoWith("file", { "workflows/workflow-lost.yaml": lostFlow(dir) });
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir);
    const token = await mintToken(repo.root, "runner", "operator");
    const flags = [
      "--tls-cert",
      cert.certFile,
      "--tls-key",
      cert.keyFile,
      "--listen",
      `127.0.0.1:${freePort()}`,
    ];
    const trust = ["--ca-cert", ca.certFile];
    await using first = await startServe(repo.root, flags);
    const made = await runCli(
      ["worker", "token", "create", "w1", "--repo", repo.root, "-q", "--label", "pool=x"],
    );
    assertEquals(made.code, 0, made.stderr);
    await using w1 = startWorker(first.url, [
      ...trust,
      "--token",
      made.stdout.trim(),
      "--cache-dir",
      `${dir}/w1`,
    ]);
    await w1.waitFor("connected");
    const s = { root: repo.root, cli: (args: string[]) => first.cli(args, token, trust) };
    const started = await s.cli(["workflow", "run", "lost", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = runIdOf(started);
    const running = await stepWhen(
      s as Setup,
      runId,
      (step) => step.status === "running" && (step.process?.pgid ?? 0) > 0,
    );
    const lease = running.step.placement!.leaseId!;
    await first.kill();

    // Without its owner the run is abandoned; the step still runs on the worker.
    const local = { cli: (args: string[]) => runCli([...args, "--repo", repo.root]) };
    const abandoned = await statusJson(local, runId);
    assertEquals(abandoned.status, "abandoned", JSON.stringify(abandoned));
    assertEquals(abandoned.steps[0].status, "abandoned");
    assertEquals((await groupAlive(running.step.process!.pgid)).length > 0, true);
    const logs = await local.cli(["workflow", "logs", runId]);
    assertMatch(logs.stdout, /reconcile: .*cannot end step \S+: no executor named remote/);

    // The worker reconnects to the restarted server, which follows no lease: it has it killed.
    await using second = await startServe(repo.root, flags);
    assertEquals(second.url, first.url);
    const killed = await w1.waitFor("killed", 30_000);
    assertEquals(killed.leaseId, lease);
    await eventually(
      "the step's process group gone",
      async () => (await groupAlive(running.step.process!.pgid)).length === 0 ? true : undefined,
    );
    assertEquals(await Deno.stat(`${dir}/marks`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
