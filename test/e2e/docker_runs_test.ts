import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  runIdOf,
  statusJson,
  stepStatuses,
} from "../helpers/mod.ts";
import { containersLabelled, dockerAvailable, ensureTestImage } from "../helpers/docker.ts";

// Workflows whose steps run in containers, driven through the CLI against a
// real engine. Every test ends by checking no container of its run is left.

const available = await dockerAvailable();
const image = available ? await ensureTestImage() : "";

/** A one-job workflow whose job runs in `executor`; `steps` are (name, script, extra YAML) triples. */
function dockerWorkflow(
  name: string,
  executor: string,
  steps: [string, string, string?][],
): string {
  const body = steps.map(([step, script, extra]) =>
    `      - name: ${step}\n${extra ?? ""}        task:\n          type: model_method\n` +
    `          modelType: command/shell\n          modelName: ${step}\n          methodName: execute\n` +
    `          inputs:\n            run: ${JSON.stringify(script)}\n`
  ).join("");
  return `id: ${crypto.randomUUID()}\nname: ${name}\njobs:\n  - name: main\n` +
    `    executor: ${executor}\n    steps:\n${body}`;
}

const inImage = (more = "") => `{type: docker, image: "${image}"${more}}`;

async function noContainersOf(runId: string): Promise<void> {
  assertEquals(await containersLabelled({ "dev.swamp.run-id": runId }), [], "no container is left");
}

function dockerTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `[docker] ${name}`, ignore: !available, fn });
}

dockerTest(
  "a flaky step in a container is retried, each attempt in its own container",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "swamp-docker-retry-" });
    try {
      const script = "n=$(cat /c/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /c/count; " +
        "[ $n -gt 2 ]";
      const file = dockerWorkflow("flaky", inImage(`, volumes: ["${dir}:/c:rw"]`), [[
        "flaky",
        script,
        "        retry: {attempts: 3}\n",
      ]]);
      await using repo = await repoWith("file", { "workflows/workflow-flaky.yaml": file });
      const result = await repo.cli(["workflow", "run", "flaky"]);
      assertEquals(result.code, 0, result.stderr);
      const run = await statusJson(repo, runIdOf(result));
      assertEquals(run.steps[0].retry, { attempt: 3, attempts: 3 });
      assertEquals((await Deno.readTextFile(`${dir}/count`)).trim(), "3");
      await noContainersOf(run.id);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

dockerTest(
  "a step runs in a labelled container with its identity, and the container is removed",
  async () => {
    const file = dockerWorkflow("boxed", inImage(', env: {GREETING: "hi"}'), [
      [
        "hello",
        'echo "$GREETING from $SWAMP_STEP_ID of $SWAMP_RUN_ID"; echo oops >&2; cat /etc/passwd | head -1',
      ],
    ]);
    await using repo = await repoWith("file", { "workflows/workflow-boxed.yaml": file });
    const result = await repo.cli(["workflow", "run", "boxed"]);
    assertEquals(result.code, 0, result.stderr);
    const runId = runIdOf(result);
    assertMatch(
      result.stdout,
      new RegExp(`^\\[main/hello\\] hi from main/hello of ${runId}$`, "m"),
    );
    assertMatch(result.stdout, /^\[main\/hello\] root:x:0:0:root/m);
    const run = await statusJson(repo, runId);
    const step = run.steps[0] as typeof run.steps[0] & {
      process?: { executor?: string; containerId?: string };
    };
    assertEquals(step.process?.executor, "docker");
    assertMatch(step.process?.containerId ?? "", /^[0-9a-f]{64}$/);
    assertEquals(
      step.outputs?.stdout,
      `hi from main/hello of ${runId}\nroot:x:0:0:root:/root:/bin/sh\n`,
    );
    await noContainersOf(runId);
  },
);

dockerTest(
  "labels and env are on the container while it runs; cancel stops it in stages and removes it",
  async () => {
    const file = dockerWorkflow("slow", inImage(), [[
      "wait",
      "echo ready; trap '' INT; sleep 300",
    ]]);
    await using repo = await repoWith("file", { "workflows/workflow-slow.yaml": file });
    const runId = runIdOf(await repo.cli(["workflow", "run", "slow", "--detach"]));
    const running = await eventually("the step to be running", async () => {
      const run = await statusJson(repo, runId);
      return run.steps[0].status === "running" ? run : undefined;
    });
    assertEquals(running.status, "running");
    const ids = await containersLabelled({
      "dev.swamp.owned": "true",
      "dev.swamp.run-id": runId,
      "dev.swamp.step-id": "main/wait",
      "dev.swamp.job": "main",
      "dev.swamp.workflow": "slow",
      "dev.swamp.attempt": "1",
    });
    assertEquals(ids.length, 1, "one container carries the run's labels");
    const env = await new Deno.Command("docker", {
      args: ["inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", ids[0]],
      stdout: "piped",
    }).output();
    const lines = new TextDecoder().decode(env.stdout).split("\n");
    assert(lines.includes(`SWAMP_RUN_ID=${runId}`), lines.join("\n"));
    assert(lines.includes("SWAMP_STEP_ID=main/wait"), lines.join("\n"));

    const cancelled = await repo.cli(["workflow", "cancel", runId], {
      SWAMP_CANCEL_GRACE_MS: "500",
    });
    assertEquals(cancelled.code, 0, cancelled.stderr);
    const run = await statusJson(repo, runId);
    assertEquals(run.status, "cancelled");
    const stages = run.cancelTimeline.map((s) => s.stage);
    assertEquals(stages.slice(0, 2), ["requested", "interrupted"]);
    assertEquals(stages.at(-1), "confirmed");
    await noContainersOf(runId);
  },
);

dockerTest("a memory limit holds and its breach is reported as out of memory", async () => {
  const file = dockerWorkflow("hungry", inImage(", memory: 32m"), [
    // Many short lines, not one huge one: see the executor contract's memory case.
    ["eat", "seq 1 3000000 | sort > /dev/null"],
  ]);
  await using repo = await repoWith("file", { "workflows/workflow-hungry.yaml": file });
  const result = await repo.cli(["workflow", "run", "hungry"]);
  assertEquals(result.code, 1, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  assertEquals(stepStatuses(run), { "main/eat": "FAILED" });
  assertMatch(
    run.steps[0].reason ?? "",
    /^out_of_memory: out of memory: the kernel killed the step/,
  );
  assertEquals(run.steps[0].outputs?.outOfMemory, true);
  await noContainersOf(run.id);
});

dockerTest("a step past its timeout fails and its container is gone", async () => {
  const file = dockerWorkflow("late", inImage(), [["nap", "sleep 300", "        timeout: 1s\n"]]);
  await using repo = await repoWith("file", { "workflows/workflow-late.yaml": file });
  const result = await repo.cli(["workflow", "run", "late"], { SWAMP_CANCEL_GRACE_MS: "300" });
  assertEquals(result.code, 1, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  assertMatch(
    run.steps[0].reason ?? "",
    /^step_timeout: the step ran longer than its timeout of 1s/,
  );
  await noContainersOf(run.id);
});

dockerTest(
  "kill -9 of the supervisor, then reconcile: abandoned, and the container is removed",
  async () => {
    const file = dockerWorkflow("orphan", inImage(), [["wait", "echo ready; sleep 300"]]);
    await using repo = await repoWith("file", { "workflows/workflow-orphan.yaml": file });
    const runId = runIdOf(await repo.cli(["workflow", "run", "orphan", "--detach"]));
    const running = await eventually("the step to be running", async () => {
      const run = await statusJson(repo, runId);
      return run.steps[0].status === "running" ? run : undefined;
    });
    Deno.kill(running.owner!.pid, "SIGKILL");
    await eventually("the supervisor to be gone", () => {
      try {
        Deno.kill(running.owner!.pid, "SIGCONT");
        return Promise.resolve(undefined);
      } catch {
        return Promise.resolve(true);
      }
    });
    assertEquals((await containersLabelled({ "dev.swamp.run-id": runId })).length, 1);
    const reconciled = await repo.cli(["workflow", "reconcile", "--json"]);
    assertEquals(reconciled.code, 0, reconciled.stderr);
    const change = (reconciled.json as { changes: { runId: string; actions: string[] }[] }).changes
      .find((c) => c.runId === runId)!;
    assert(
      change.actions.some((a) => /container [0-9a-f]{12} removed/.test(a)),
      change.actions.join("\n"),
    );
    assertEquals((await statusJson(repo, runId)).status, "abandoned");
    await noContainersOf(runId);
  },
);

dockerTest("an unreachable engine and a missing image are clear step failures", async () => {
  const step = (name: string, executor: string) =>
    `      - name: ${name}\n        executor: ${executor}\n        task:\n` +
    `          type: model_method\n          modelType: command/shell\n          modelName: ${name}\n` +
    `          methodName: execute\n          inputs: {run: "true"}\n`;
  const file = `id: ${crypto.randomUUID()}\nname: broken\njobs:\n  - name: main\n    steps:\n` +
    step("noengine", inImage(', socket: "/nonexistent/docker.sock"')) +
    step("noimage", '{type: docker, image: "swamp-test/absent:1"}') +
    step("novolume", inImage(', volumes: ["/nonexistent/swamp-volume:/data"]'));
  await using repo = await repoWith("file", { "workflows/workflow-broken.yaml": file });
  const result = await repo.cli(["workflow", "run", "broken"]);
  assertEquals(result.code, 1, result.stderr);
  const run = await statusJson(repo, runIdOf(result));
  const reasons = Object.fromEntries(run.steps.map((s) => [s.id, s.reason ?? ""]));
  assertMatch(
    reasons["main/noengine"],
    /^executor_unavailable: the Docker engine does not answer at \/nonexistent\/docker.sock .*dockerd/,
  );
  assertMatch(
    reasons["main/noimage"],
    /^image_missing: image swamp-test\/absent:1 is not present and `pull` is `never`/,
  );
  assertMatch(
    reasons["main/novolume"],
    /^io: volume `\/nonexistent\/swamp-volume:\/data`: host path \/nonexistent\/swamp-volume does not exist$/,
  );
});

Deno.test("workflow validate reports unknown executors and bad Docker settings", async () => {
  const file =
    `id: ${crypto.randomUUID()}\nname: wrong\nexecutor: {type: podman}\njobs:\n  - name: main\n` +
    `    executor: {type: docker, image: x, memory: lots, volumes: [relative:/x], network: bridge}\n` +
    `    steps:\n      - name: s\n        task: {type: assert, expr: "true", message: m}\n`;
  await using repo = await repoWith("file", { "workflows/workflow-wrong.yaml": file });
  const result = await repo.cli(["workflow", "validate", "wrong", "--json"]);
  assertEquals(result.code, 3, result.stderr);
  const diagnostics =
    (result.json as { results: { diagnostics: { path: string; message: string }[] }[] })
      .results[0].diagnostics.map((d) => `${d.path}: ${d.message}`);
  const text = diagnostics.join("\n");
  assertMatch(text, /^executor\.type: .*podman/m);
  assertMatch(text, /^jobs\[0\]\.executor\.memory: /m);
  assertMatch(text, /^jobs\[0\]\.executor\.volumes\[0\]: /m);
  assertMatch(text, /^jobs\[0\]\.executor\.network: /m);
});
