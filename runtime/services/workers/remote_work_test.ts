import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  AssignmentSchema,
  RemoteStepWorkSchema,
} from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { assertEquals } from "../../../test/helpers/assert.ts";
import type { StepWork } from "../../ports/executor.ts";
import { fromRemoteWork, toRemoteWork } from "./remote_work.ts";

/** `work` sent to worker w-1 over the wire, as the worker's executor gets it back. */
function roundTrip(work: StepWork, executor: string, cwd?: string): StepWork {
  const sent = toBinary(
    RemoteStepWorkSchema,
    create(RemoteStepWorkSchema, toRemoteWork(work, executor, "w-1")),
  );
  const assignment = create(AssignmentSchema, {
    runId: work.runId,
    stepId: work.stepId,
    work: fromBinary(RemoteStepWorkSchema, sent),
  });
  return fromRemoteWork(assignment, cwd);
}

const base: StepWork = {
  runId: "r",
  stepId: "main/s",
  command: { script: "echo hi" },
  env: { A: "1" },
  graceMs: 500,
  outputLimitBytes: 4096,
  labels: { "dev.swamp.run-id": "r" },
};

Deno.test("remote work: a container step arrives with its container and limits", () => {
  const work: StepWork = {
    ...base,
    command: { argv: ["sh", "-c", "exit 0"] },
    timeoutMs: 9000,
    container: {
      image: "busybox:1",
      shell: ["/bin/ash", "-c"],
      workdir: "/w",
      volumes: ["/data:/data:ro"],
      user: "nobody",
      network: "host",
      pull: "if-missing",
      socket: "/run/docker.sock",
    },
    limits: { memoryBytes: 64 << 20, cpus: 1.5 },
  };
  assertEquals(roundTrip(work, "docker"), {
    ...work,
    env: { A: "1", SWAMP_WORKER_ID: "w-1" },
  });
});

Deno.test("remote work: a process step arrives without container or limits, in the worker's cwd", () => {
  assertEquals(roundTrip(base, "loopback", "/scratch"), {
    ...base,
    env: { A: "1", SWAMP_WORKER_ID: "w-1" },
    cwd: "/scratch",
    timeoutMs: undefined,
  });
  // Unset container fields stay unset: the executor's defaults apply, as they would here.
  const bare = roundTrip({ ...base, container: { image: "x" } }, "docker");
  assertEquals(bare.container, { image: "x" });
  assertEquals(bare.limits, undefined);
});
