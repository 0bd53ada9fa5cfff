// The scheduler ends a run in the pass that ends its last jobs (decide), and
// only then: checked on the appends a real engine run makes.
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { engineHarness, memoryStore, shell, workflowOf } from "../../test/helpers/engine.ts";
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import { observeWrites } from "../mod.ts";
import { JobStatus, RunStatus } from "../run/status.ts";

const ok = { type: "succeeded" };

/**
 * Each append's events as text (`job build: SUCCEEDED`, `run: SUCCEEDED`), in
 * order; `onAppend` sees each as it is stored.
 */
async function appendsOf(
  jobs: unknown[],
  onAppend: (events: string[]) => void = () => {},
): Promise<{ status: RunStatus; appends: string[][] }> {
  const appends: string[][] = [];
  const store = observeWrites(await memoryStore(), (_runId, events) => {
    if (events.length === 0) return;
    appends.push(events.flatMap(describe));
    onAppend(appends.at(-1)!);
  });
  await using h = await engineHarness({ store });
  const { done } = await h.start(workflowOf("ends", jobs));
  return { status: (await done).status, appends };
}

function describe({ payload }: RunEvent): string[] {
  if (payload.case === "jobStatusChanged") {
    return [`job ${payload.value.job}: ${JobStatus[payload.value.to]}`];
  }
  if (payload.case === "runStatusChanged") return [`run: ${RunStatus[payload.value.to]}`];
  return [];
}

/** The append that holds `event`. */
function appendWith(appends: string[][], event: string): string[] {
  const found = appends.find((events) => events.includes(event));
  assert(found, `no append holds ${event}: ${JSON.stringify(appends)}`);
  return found;
}

Deno.test("the last job's end and the run's end are one append", async () => {
  const { status, appends } = await appendsOf([{ name: "main", steps: [shell("a", "true")] }]);
  assertEquals(status, RunStatus.SUCCEEDED);
  assertEquals(appendWith(appends, "run: SUCCEEDED"), ["job main: SUCCEEDED", "run: SUCCEEDED"]);
});

Deno.test("a failed last job fails the run in the same append", async () => {
  const { status, appends } = await appendsOf([{ name: "main", steps: [shell("a", "exit 2")] }]);
  assertEquals(status, RunStatus.FAILED);
  assertEquals(appendWith(appends, "run: FAILED"), ["job main: FAILED", "run: FAILED"]);
});

Deno.test("a job that others wait on ends on its own: the run goes on", async () => {
  const { status, appends } = await appendsOf([
    { name: "build", steps: [shell("make", "true")] },
    { name: "ship", dependsOn: [{ job: "build", condition: ok }], steps: [shell("push", "true")] },
  ]);
  assertEquals(status, RunStatus.SUCCEEDED);
  assertEquals(appendWith(appends, "job build: SUCCEEDED"), ["job build: SUCCEEDED"]);
  assertEquals(appendWith(appends, "run: SUCCEEDED"), ["job ship: SUCCEEDED", "run: SUCCEEDED"]);
  const all = appends.flat();
  assert(
    all.indexOf("job build: SUCCEEDED") < all.indexOf("job ship: RUNNING"),
    all.join(", "),
  );
});

Deno.test("a job ending while another still runs does not end the run", async () => {
  // `slow` runs until `quick`'s end is stored, so the two can never end in one pass.
  const dir = await Deno.makeTempDir({ prefix: "swamp-scheduler-" });
  const release = `${dir}/release`;
  const { status, appends } = await appendsOf([
    { name: "quick", steps: [shell("q", "true")] },
    { name: "slow", steps: [shell("s", `while [ ! -e ${release} ]; do sleep 0.01; done`)] },
  ], (events) => {
    if (events.includes("job quick: SUCCEEDED")) Deno.writeTextFileSync(release, "");
  }).finally(() => Deno.remove(dir, { recursive: true }));
  assertEquals(status, RunStatus.SUCCEEDED);
  assertEquals(appendWith(appends, "job quick: SUCCEEDED"), ["job quick: SUCCEEDED"]);
  assertEquals(appendWith(appends, "run: SUCCEEDED"), ["job slow: SUCCEEDED", "run: SUCCEEDED"]);
});
