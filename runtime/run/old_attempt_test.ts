import { create } from "@bufbuild/protobuf";
import { spawn } from "node:child_process";
import { RunCreatedSchema, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  JobSchema,
  OwnerSchema,
  type Run,
  RunSchema,
  StepProcessSchema,
  StepSchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { assert, assertEquals, assertRejects } from "../../test/helpers/assert.ts";
import { groupAlive } from "../../test/helpers/runs.ts";
import { cliExecutors } from "../../test/helpers/services.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { bootId, hostName, processStartTime } from "../host/mod.ts";
import { systemClock } from "../ports/clock.ts";
import type { Executor } from "../ports/executor.ts";
import type { RunStore } from "../ports/store.ts";
import { summarize } from "./fold.ts";
import { confirmLastAttemptGone } from "./old_attempt.ts";
import { JobStatus, RunStatus, StepStatus } from "./status.ts";

const runId = "7d6c5b4a-3928-4716-8f5e-4d3c2b1a0987";

/** A process in a session of its own, as a step's is, that outlives the test unless ended. */
async function stepProcess() {
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const pid = child.pid!;
  return {
    pid,
    start: (await processStartTime(pid))!,
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** An abandoned run whose step recorded `pid`, its owner (dead) on `host`. */
async function abandonedRun(store: RunStore, pid: number, start: string, host = hostName()) {
  const run: Run = create(RunSchema, {
    id: runId,
    status: RunStatus.ABANDONED,
    attempt: 1,
    owner: create(OwnerSchema, { host, bootId: await bootId(), pid: 1_999_999 }),
    jobs: [create(JobSchema, { name: "main", status: JobStatus.ABANDONED })],
    steps: [create(StepSchema, {
      id: "main/work",
      name: "work",
      job: "main",
      status: StepStatus.ABANDONED,
      itemIndex: -1,
      process: create(StepProcessSchema, {
        executor: "loopback",
        pid,
        pgid: pid,
        processStart: start,
      }),
    })],
    revision: 1n,
  });
  const first = create(RunEventSchema, {
    runId,
    seq: 1n,
    payload: { case: "runCreated", value: create(RunCreatedSchema, { run }) },
  });
  await store.createRun(first, summarize(run), run);
  return run;
}

const refused = (fragment: string) => (error: unknown) =>
  error instanceof SwampError && error.code === ErrorCode.RUN_STATE &&
  `${error.message} ${error.hint}`.includes(fragment);

Deno.test("what the last attempt left running is ended and confirmed gone", async () => {
  await using temp = await tempFileStore();
  await using step = await stepProcess();
  const run = await abandonedRun(temp.store, step.pid, step.start);
  assertEquals((await groupAlive(step.pid)).length, 1);
  await confirmLastAttemptGone(
    { store: temp.store, clock: systemClock, executors: await cliExecutors() },
    run,
  );
  assertEquals(await groupAlive(step.pid), []);
  const log = (await temp.store.readLogs(runId, 0n, 10)).map((l) => l.text).join("\n");
  assert(log.includes("step main/work: confirmed gone"), log);
});

Deno.test("a step recorded on another host is not confirmed gone from here, and is left alone", async () => {
  await using temp = await tempFileStore();
  await using step = await stepProcess();
  const run = await abandonedRun(temp.store, step.pid, step.start, "elsewhere.example");
  await assertRejects(
    () =>
      confirmLastAttemptGone(
        { store: temp.store, clock: systemClock, executors: new Map() },
        run,
      ),
    refused("step main/work ran on host elsewhere.example"),
  );
  assertEquals((await groupAlive(step.pid)).length, 1);
});

Deno.test("an executor that cannot confirm a step gone stops the resume, naming the step", async () => {
  await using temp = await tempFileStore();
  await using step = await stepProcess();
  const run = await abandonedRun(temp.store, step.pid, step.start);
  const loopback = (await cliExecutors()).get("loopback")!;
  const unable: Executor = { ...loopback, confirmGone: undefined };
  await assertRejects(
    () =>
      confirmLastAttemptGone(
        { store: temp.store, clock: systemClock, executors: new Map([["loopback", unable]]) },
        run,
      ),
    refused("step main/work (pid"),
  );
});
