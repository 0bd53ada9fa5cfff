import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { JobSchema, StepSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals, assertRejects } from "../../test/helpers/assert.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { storeNewRun, storeOnlyEnv, tempFileStore } from "../../test/helpers/stores.ts";
import { systemClock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { claimRun } from "../run/claim.ts";
import { RunJournal } from "../run/journal.ts";
import { JobStatus, RunStatus, StepStatus } from "../run/status.ts";
import type { LaunchedSupervisor, RunServiceEnv } from "./run_env.ts";
import { startSupervisor } from "./supervisor_start.ts";

const runId = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716";
const me = { host: "here", bootId: "", pid: Deno.pid, processStart: "1", server: "" };

async function pendingRun(store: RunStore): Promise<void> {
  await storeNewRun(store, {
    id: runId,
    status: RunStatus.PENDING,
    createTime: timestampFromDate(new Date()),
    jobs: [create(JobSchema, { name: "main", status: JobStatus.PENDING })],
    steps: [create(StepSchema, {
      id: "main/a",
      name: "a",
      job: "main",
      status: StepStatus.PENDING,
      itemIndex: -1,
    })],
  });
}

/** A supervisor that does `before` when launched, then exits as `failed` says. */
function envWith(
  store: RunStore,
  exit: { failed?: string },
  before: () => Promise<unknown> = () => Promise.resolve(),
): RunServiceEnv & { released: () => boolean } {
  let released = false;
  return {
    ...storeOnlyEnv(store),
    async launchSupervisor(): Promise<LaunchedSupervisor> {
      await before();
      return {
        exited: Promise.resolve(exit),
        command: "supervise",
        release: () => void (released = true),
      };
    },
    released: () => released,
  } as unknown as RunServiceEnv & { released: () => boolean };
}

async function claim(store: RunStore): Promise<void> {
  const journal = await RunJournal.open(store, runId, systemClock, "system");
  assertEquals(await claimRun(journal, me, systemClock, "supervisor started"), true);
}

/** Starts the supervisor, which must fail with `run_abandoned`; returns the run as recorded then. */
async function abandonedBy(env: RunServiceEnv, store: RunStore, message: string) {
  await assertRejects(
    () => startSupervisor(env, store, runId),
    (error) =>
      error instanceof SwampError && error.code === ErrorCode.RUN_ABANDONED &&
      error.message === `run ${runId} was abandoned: ${message}`,
  );
  return (await RunJournal.open(store, runId, systemClock, "system")).run;
}

Deno.test("a supervisor that exits before claiming: the run is abandoned with how it exited", async () => {
  await using temp = await tempFileStore();
  await pendingRun(temp.store);
  const env = envWith(temp.store, { failed: "exited with status 1" });
  const reason = "its supervisor exited with status 1 before claiming the run";
  const run = await abandonedBy(env, temp.store, reason);
  assertEquals([run.status, run.reason], [RunStatus.ABANDONED, reason]);
  assertEquals(run.steps[0].status, StepStatus.ABANDONED);
  assertEquals(env.released(), true);
});

Deno.test("a supervisor that cannot be spawned: the run is abandoned with the error", async () => {
  await using temp = await tempFileStore();
  await pendingRun(temp.store);
  const env = envWith(temp.store, {}, () => Promise.reject(new Error("no setsid")));
  const reason = "its supervisor could not be started: no setsid";
  assertEquals((await abandonedBy(env, temp.store, reason)).reason, reason);
});

Deno.test("a supervisor that claimed the run before it exited keeps it", async () => {
  await using temp = await tempFileStore();
  await pendingRun(temp.store);
  const env = envWith(temp.store, { failed: "was killed by SIGKILL" }, () => claim(temp.store));
  await startSupervisor(env, temp.store, runId);
  const after = await RunJournal.open(temp.store, runId, systemClock, "system");
  assertEquals(after.run.status, RunStatus.PENDING);
  assertEquals(after.run.owner?.pid, Deno.pid);
});

Deno.test("an exit with status 0 before the claim is a wrapper handing on: the run is left to claim", async () => {
  await using temp = await tempFileStore();
  await pendingRun(temp.store);
  await startSupervisor(envWith(temp.store, {}), temp.store, runId);
  const after = await RunJournal.open(temp.store, runId, systemClock, "system");
  assertEquals(after.run.status, RunStatus.PENDING);
});

Deno.test("a claim that lands while the abandonment is written wins", async () => {
  await using temp = await tempFileStore();
  await pendingRun(temp.store);
  // The claim is written just before the abandonment's first attempt, which then conflicts.
  let raced = false;
  const racing = Object.create(temp.store) as RunStore;
  racing.append = async (request) => {
    if (!raced) {
      raced = true;
      await claim(temp.store);
    }
    return await temp.store.append(request);
  };
  const env = envWith(racing, { failed: "exited with status 1" });
  await startSupervisor(env, racing, runId);
  assertEquals(raced, true);
  const after = await RunJournal.open(temp.store, runId, systemClock, "system");
  assertEquals([after.run.status, after.run.owner?.pid], [RunStatus.PENDING, Deno.pid]);
});
