// Step `retry:` on a remote worker: a real `swamp serve` over TLS, a real
// worker, a placed step that fails twice then succeeds. Each retry is a new
// attempt under a new lease (docs/design/0017-step-retry-and-timeouts.md).
import {
  assert,
  assertEquals,
  assertMatch,
  runIdOf,
  serveWithTestCa,
  shellStep,
  statusJson,
} from "../helpers/mod.ts";
import { mintWorkerToken, startWorker } from "../helpers/worker.ts";

Deno.test("a flaky placed step is retried on the worker, each attempt under its own lease", async () => {
  const counter = await Deno.makeTempDir({ prefix: "swamp-remote-retry-" });
  const script = `n=$(cat ${counter}/count 2>/dev/null || echo 0); n=$((n+1)); ` +
    `echo $n > ${counter}/count; echo "try $n"; [ $n -gt 2 ]`;
  const flow = `id: 8c3a1b2d-4e5f-4a6b-9c7d-3e4f5a6b7c8d\nname: flaky\njobs:\n  - name: main\n` +
    `    steps:\n${
      shellStep("flaky", script, '        labels: {pool: "a"}\n        retry: {attempts: 3}\n')
    }`;
  try {
    await using env = await serveWithTestCa(
      "file",
      { "workflows/workflow-flaky.yaml": flow },
      "runner",
      "operator",
    );
    const trust = ["--ca-cert", env.ca.certFile];
    const credential = await mintWorkerToken(env.repo.root, "w-a", ["pool=a"]);
    await using worker = startWorker(env.server.url, [
      ...trust,
      "--token",
      credential,
      "--cache-dir",
      `${counter}/cache`,
    ]);
    const workerId = String((await worker.waitFor("connected")).workerId);
    const cli = (args: string[]) => env.server.cli(args, env.token, trust);
    const result = await cli(["workflow", "run", "flaky"]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const run = await statusJson({ cli }, runIdOf(result));
    const step = run.steps[0] as (typeof run.steps)[0] & {
      placement?: { workerId?: string; leaseId?: string };
    };
    assertEquals(run.status, "succeeded");
    assertEquals(step.retry, { attempt: 3, attempts: 3 });
    assertEquals(step.attempt, 3);
    assertEquals(step.placement?.workerId, workerId);
    assertEquals((await Deno.readTextFile(`${counter}/count`)).trim(), "3");
    const logs = await cli(["workflow", "logs", run.id]);
    const leases = [...logs.stdout.matchAll(/\(lease (\S+), attempt (\d)\)/g)];
    assertEquals(leases.map((m) => m[2]), ["1", "2", "3"]);
    assertEquals(new Set(leases.map((m) => m[1])).size, 3, "a new lease per attempt");
    assertMatch(logs.stdout, /attempt 2 of 3 failed \(exited with status 1\)/);
    assert(step.placement?.leaseId === leases[2][1], "the record names the last attempt's lease");
  } finally {
    await Deno.remove(counter, { recursive: true });
  }
});
