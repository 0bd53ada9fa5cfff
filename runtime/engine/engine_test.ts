// The engine in-process (test/helpers/engine.ts: memory store, fake clock,
// real step processes): scheduling, concurrency, cancellation and gate
// expiry, without a supervisor process or a repository on disk.
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { engineHarness, shell, workflowOf } from "../../test/helpers/engine.ts";
import { eventually, fileAppears, groupAlive } from "../../test/helpers/runs.ts";
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, StepStatus } from "../run/status.ts";

const ok = { type: "succeeded" };
const after = (step: string) => ({ dependsOn: [{ step, condition: ok }] });

function statuses(run: { steps: { id: string; status: StepStatus }[] }): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.id, StepStatus[s.status]]));
}

/** The most steps (of those `match` picks) running at once, replaying the run's events in order. */
function mostAtOnce(events: RunEvent[], match: (stepId: string) => boolean): number {
  const running = new Set<string>();
  let most = 0;
  for (const { payload } of events) {
    if (payload.case !== "stepStatusChanged" || !match(payload.value.stepId)) continue;
    if (payload.value.to === StepStatus.RUNNING) running.add(payload.value.stepId);
    else running.delete(payload.value.stepId);
    most = Math.max(most, running.size);
  }
  return most;
}

Deno.test("steps run in dependency order; a failed step skips what needs it, the run fails", async () => {
  await using h = await engineHarness();
  const log = `${h.dir}/order`;
  const { done } = await h.start(workflowOf("order", [
    {
      name: "main",
      steps: [
        shell("a", `echo a >> ${log}`),
        shell("b", `echo b >> ${log}`, after("a")),
        shell("c", `echo c >> ${log}; exit 3`, after("b")),
        shell("d", `echo d >> ${log}`, after("c")),
      ],
    },
  ]));
  const run = await done;
  assertEquals(run.status, RunStatus.FAILED);
  assertEquals(statuses(run), {
    "main/a": "SUCCEEDED",
    "main/b": "SUCCEEDED",
    "main/c": "FAILED",
    "main/d": "SKIPPED",
  });
  assertEquals(await Deno.readTextFile(log), "a\nb\nc\n");
  assertEquals(run.steps.find((s) => s.id === "main/c")?.exitCode, 3);
});

Deno.test("a job waits for the job it depends on; independent jobs both run", async () => {
  await using h = await engineHarness();
  const { done } = await h.start(workflowOf("jobs", [
    { name: "build", steps: [shell("make", "true")] },
    {
      name: "ship",
      dependsOn: [{ job: "build", condition: ok }],
      steps: [shell("push", "true")],
    },
    { name: "docs", steps: [shell("site", "false")] },
  ]));
  const run = await done;
  assertEquals(statuses(run), {
    "build/make": "SUCCEEDED",
    "ship/push": "SUCCEEDED",
    "docs/site": "FAILED",
  });
  assertEquals(run.status, RunStatus.FAILED);
  const order = (await h.events(run.id)).flatMap(({ payload }) =>
    payload.case === "stepStatusChanged" && payload.value.to === StepStatus.RUNNING
      ? [payload.value.stepId]
      : []
  );
  assert(order.indexOf("build/make") < order.indexOf("ship/push"), order.join(", "));
});

Deno.test("forEach with concurrency 2 never runs more than 2 items at once", async () => {
  await using h = await engineHarness();
  const { done } = await h.start(workflowOf("fan", [
    {
      name: "main",
      steps: [
        shell("item", "sleep 0.2", {
          forEach: { item: "n", in: [1, 2, 3, 4, 5, 6] },
          concurrency: 2,
        }),
      ],
    },
  ]));
  const run = await done;
  assertEquals(run.status, RunStatus.SUCCEEDED);
  const items = run.steps.filter((s) => s.itemIndex >= 0);
  assertEquals(items.length, 6);
  // Exactly 2: the limit holds, and it is not met by running one at a time.
  assertEquals(mostAtOnce(await h.events(run.id), (id) => id.startsWith("main/item[")), 2);
});

Deno.test("cancelling a running run stops its step's processes and records the timeline", async () => {
  await using h = await engineHarness({ graceMs: 200 });
  const ready = `${h.dir}/ready`;
  const started = await h.start(workflowOf("cancel", [
    {
      name: "main",
      steps: [
        shell("wait", `touch ${ready}; sleep 30 & sleep 30`),
        shell("next", "true", after("wait")),
      ],
    },
  ]));
  await fileAppears(ready);
  const running = await h.store.loadRun(started.runId);
  started.cancel();
  const run = await started.done;
  assertEquals(run.status, RunStatus.CANCELLED);
  // A step that had not started is cancelled too ("run cancelled before it started").
  assertEquals(statuses(run), { "main/wait": "CANCELLED", "main/next": "CANCELLED" });
  assert(run.cancelTimeline.length > 0, "no cancel timeline");
  const pgid = run.steps[0].process?.pgid ?? 0;
  assert(pgid > 0, `no process recorded: ${JSON.stringify(running?.snapshot.steps[0].process)}`);
  assertEquals(await groupAlive(pgid), []);
});

Deno.test("an approval gate expires when the clock passes its timeout, with its onTimeout outcome", async () => {
  await using h = await engineHarness();
  const [holding, release] = [`${h.dir}/holding`, `${h.dir}/release`];
  const gate = {
    name: "gate",
    task: { type: "manual_approval", prompt: "ship?", timeout: "1h", onTimeout: "approve" },
    ...after("pre"),
  };
  const started = await h.start(workflowOf("gated", [
    {
      name: "ship",
      steps: [
        shell("pre", `while [ ! -e ${holding} ]; do sleep 0.05; done`),
        gate,
        shell("deploy", "true", after("gate")),
      ],
    },
    // Running when the gate is reached, it keeps the run from suspending: nothing new starts
    // while a gate waits, but what runs finishes, and the supervisor watches the gate meanwhile.
    {
      name: "side",
      steps: [shell("hold", `touch ${holding}; while [ ! -e ${release} ]; do sleep 0.05; done`)],
    },
  ]));
  const waiting = await eventually("the gate to wait", async () => {
    const run = (await h.store.loadRun(started.runId))?.snapshot;
    const events = await h.events(started.runId);
    const gated = events.some(({ payload }) =>
      payload.case === "stepStatusChanged" && payload.value.stepId === "ship/gate" &&
      payload.value.to === StepStatus.WAITING_APPROVAL
    );
    return gated ? run : undefined;
  });
  assert(waiting);
  // Nothing happens while the clock stands still…
  await new Promise((resolve) => setTimeout(resolve, 200));
  const still = await h.events(started.runId);
  assert(!still.some(({ payload }) => payload.case === "approvalDecided"), "decided too early");
  // …and the gate is decided once it passes the timeout.
  h.clock.advance(61 * 60 * 1000);
  await eventually("the deploy step to succeed", async () => {
    const events = await h.events(started.runId);
    return events.some(({ payload }) =>
        payload.case === "stepStatusChanged" && payload.value.stepId === "ship/deploy" &&
        payload.value.to === StepStatus.SUCCEEDED
      )
      ? true
      : undefined;
  });
  await Deno.writeTextFile(release, "");
  const run = await started.done;
  assertEquals(run.status, RunStatus.SUCCEEDED);
  const decided = run.steps.find((s) => s.id === "ship/gate")?.approval?.decision;
  assertEquals(decided?.approved, true);
});

Deno.test("a run whose work left waits on a gate suspends, its locks given back", async () => {
  await using h = await engineHarness();
  const gate = { name: "gate", task: { type: "manual_approval", prompt: "go?" }, ...after("a") };
  const workflow = workflowOf("pause", [
    {
      name: "main",
      steps: [
        shell("a", `touch ${h.dir}/a; while [ ! -e ${h.dir}/go ]; do sleep 0.05; done`),
        gate,
        shell("b", "true", after("gate")),
      ],
    },
  ]);
  const started = await h.start({ ...workflow, locks: ["deploy"] } as typeof workflow);
  await fileAppears(`${h.dir}/a`);
  // While it runs, the run holds its workflow lock and its running step's model…
  assertEquals((await h.store.listLocks()).map((l) => [l.name, l.runId]), [
    ["lock:deploy", started.runId],
    ["model:command/shell/a", started.runId],
  ]);
  await Deno.writeTextFile(`${h.dir}/go`, "");
  const run = await started.done;
  assertEquals(run.status, RunStatus.SUSPENDED);
  assertEquals(run.reason, "waiting for approval: main/gate");
  assertEquals(statuses(run), {
    "main/a": "SUCCEEDED",
    "main/gate": "WAITING_APPROVAL",
    "main/b": "PENDING",
  });
  // …and gives it back when it suspends.
  assertEquals(await h.store.listLocks(), []);
});

Deno.test("a run handed over starts nothing new, lets its local step end, and stops running", async () => {
  await using h = await engineHarness();
  const started = `${h.dir}/started`;
  const log = `${h.dir}/order`;
  const { runId, done, handOver } = await h.start(workflowOf("handover", [
    {
      name: "main",
      steps: [
        shell("a", `touch ${started}; sleep 0.5; echo a >> ${log}`),
        shell("b", `echo b >> ${log}`, after("a")),
      ],
    },
  ]));
  await fileAppears(started);
  handOver();
  const run = await done;
  // Left running for the next owner: the step it had started ended here, the next never began.
  assertEquals(run.status, RunStatus.RUNNING);
  assertEquals(statuses(run), { "main/a": "SUCCEEDED", "main/b": "PENDING" });
  assertEquals(await Deno.readTextFile(log), "a\n");
  const touched = (await h.events(runId)).filter((e) =>
    e.payload.case === "stepStatusChanged" && e.payload.value.stepId === "main/b"
  );
  assertEquals(touched, [], "the step it had not started was left alone");
});
