// The host-wide step ceiling (SWAMP_HOST_MAX_STEPS) across real supervisors
// of separate repositories, within one run's fan-out, and after a kill -9 of
// the supervisor holding the only slot.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  type RunJson,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";

type Repo = Awaited<ReturnType<typeof repoWith>>;

/** Slots of their own for each test, so tests running in parallel never share a ceiling. */
async function ceiling(limit: number) {
  const dir = await Deno.makeTempDir({ prefix: "swamp-host-slots-" });
  return {
    dir,
    env: { SWAMP_HOST_MAX_STEPS: String(limit), SWAMP_HOST_SLOTS_DIR: dir },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A step that runs until `gate` exists (bounded, so a failed test never leaves it for long). */
function waitsFor(gate: string): string {
  return `for i in $(seq 600); do [ -e ${gate} ] && exit 0; sleep 0.05; done; exit 9`;
}

async function detach(repo: Repo, workflow: string, env: Record<string, string>) {
  const started = await repo.cli(["workflow", "run", workflow, "--detach"], env);
  assertEquals(started.code, 0, started.stderr);
  return started.stdout.trim().split("\n")[0];
}

function settled(repo: Repo, runId: string): Promise<RunJson> {
  return eventually(`run ${runId} to end`, async () => {
    const run = await statusJson(repo, runId);
    return /^(succeeded|failed|cancelled|abandoned)$/.test(run.status) ? run : undefined;
  }, 60_000);
}

function waitingOnSlot(repo: Repo, runId: string): Promise<RunJson> {
  return eventually("the second run to wait for a host slot", async () => {
    const run = await statusJson(repo, runId);
    return hostSlotOf(run.steps[0]) ? run : undefined;
  });
}

function hostSlotOf(step: RunJson["steps"][number]) {
  return (step.waiting as { hostSlot?: { dir: string; limit: number } } | undefined)?.hostSlot;
}

/** The most steps whose recorded [start, end) times overlap. */
function mostAtOnce(steps: RunJson["steps"]): number {
  const edges = steps.filter((s) => s.startTime && s.endTime).flatMap((s) => [
    [Date.parse(s.startTime!), 1],
    [Date.parse(s.endTime!), -1],
  ]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, now += delta);
  return most;
}

/**
 * Two repositories under one ceiling: `hold` runs until `gate` exists, and
 * `next`, started once hold's step runs, waits for a slot. Both removed on dispose.
 */
async function holderAndWaiter(
  slots: { env: Record<string, string> },
  gate: string,
  secondStore: "file" | "sqlite",
) {
  const first = await repoWith("file", {
    "workflows/workflow-hold.yaml": workflowFile("hold", shellStep("hold", waitsFor(gate))),
  });
  const second = await repoWith(secondStore, {
    "workflows/workflow-next.yaml": workflowFile("next", shellStep("next", "echo next")),
  });
  const dispose = async () => {
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
  };
  try {
    const holder = await detach(first, "hold", slots.env);
    const holding = await eventually("the first step to run", async () => {
      const run = await statusJson(first, holder);
      return run.steps[0].process?.pid ? run : undefined;
    });
    const waiter = await detach(second, "next", slots.env);
    const waiting = await waitingOnSlot(second, waiter);
    return { first, second, holder, holding, waiter, waiting, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

Deno.test("host ceiling: runs of two repositories share it; the second waits, says on what, then runs", async () => {
  await using slots = await ceiling(1);
  const gate = `${slots.dir}/open`;
  await using pair = await holderAndWaiter(slots, gate, "sqlite");
  const { first, second, holder, waiter, waiting } = pair;
  assertEquals(waiting.steps[0].status, "pending");
  assertEquals(waiting.waiting, waiting.steps[0].waiting);
  assertEquals(hostSlotOf(waiting.steps[0]), { dir: slots.dir, limit: 1 });

  const status = await second.cli(["workflow", "status", waiter]);
  assertMatch(status.stdout, /waiting on a host step slot \(all 1 taken, SWAMP_HOST_MAX_STEPS\)/);
  const list = await second.cli(["workflow", "list"]);
  assertMatch(list.stdout, /a host step slot \(all 1 taken/);

  await Deno.writeTextFile(gate, "");
  const [held, next] = [await settled(first, holder), await settled(second, waiter)];
  assertEquals([held.status, next.status], ["succeeded", "succeeded"]);
  assertEquals(next.waiting, undefined);
  assert(
    Date.parse(next.steps[0].startTime!) >= Date.parse(held.steps[0].endTime!),
    "the waiting step started only after the holder's step ended",
  );
});

Deno.test("host ceiling: a fan-out wider than the ceiling never runs more steps at once", async () => {
  await using slots = await ceiling(2);
  const fan = `      - name: fan
        forEach: {item: x, in: [1, 2, 3, 4, 5, 6]}
        concurrency: 6
        task: {type: model_method, modelType: command/shell, modelName: fan, methodName: execute, inputs: {run: "sleep 0.3"}}
`;
  await using repo = await repoWith("file", {
    "workflows/workflow-fan.yaml": workflowFile("fan", fan),
  });
  const result = await repo.cli(["workflow", "run", "fan"], slots.env);
  assertEquals(result.code, 0, result.stderr);
  const run = await statusJson(repo, result.stdout.split("\n")[0]);
  const items = run.steps.filter((s) => s.itemIndex !== undefined && s.itemIndex >= 0);
  assertEquals(items.length, 6);
  assertEquals(mostAtOnce(items), 2);
});

Deno.test("host ceiling: kill -9 of the supervisor holding the only slot frees it at once", async () => {
  await using slots = await ceiling(1);
  const gate = `${slots.dir}/never`;
  await using pair = await holderAndWaiter(slots, gate, "file");
  const { first, second, holder, holding, waiter } = pair;
  Deno.kill(holding.owner!.pid, "SIGKILL");
  const next = await settled(second, waiter);
  assertEquals(next.status, "succeeded");
  assertEquals((await statusJson(first, holder)).status, "abandoned");
});

Deno.test("host ceiling: a malformed SWAMP_HOST_MAX_STEPS is a usage error and starts no run", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-one.yaml": workflowFile("one", shellStep("one", "echo one")),
  });
  const refused = await repo.cli(["workflow", "run", "one", "--json"], {
    SWAMP_HOST_MAX_STEPS: "lots",
  });
  assertEquals(refused.code, 2);
  const error = (refused.json as { error: { code: string; message: string } }).error;
  assertEquals(error.code, "usage");
  assertMatch(error.message, /SWAMP_HOST_MAX_STEPS is `lots`/);
  const list = await repo.cli(["workflow", "list", "--json"]);
  assertEquals((list.json as { runs: unknown[] }).runs, []);
  // 0 turns the ceiling off.
  const free = await repo.cli(["workflow", "run", "one"], { SWAMP_HOST_MAX_STEPS: "0" });
  assertEquals(free.code, 0, free.stderr);
});
