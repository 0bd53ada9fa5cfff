import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OwnerSchema,
  PlacementSchema,
  RunSchema,
  RunStatus,
  StepProcessSchema,
  StepSchema,
} from "../proto/gen/swamp/v1/run_pb.ts";
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { Output } from "./output.ts";
import { printRun, stepDetails } from "./render_run.ts";

/** An Output that keeps its lines. */
class Capture extends Output {
  readonly lines: string[] = [];
  override line(text = ""): void {
    this.lines.push(text);
  }
}

/** printRun's lines for a cancelling run whose owner's last heartbeat was this long ago. */
function lines(heartbeatAgoMs: number): string[] {
  const output = new Capture({ "no-color": true });
  const run = create(RunSchema, {
    id: "r-1",
    workflowName: "slow",
    status: RunStatus.CANCELLING,
    createTime: timestampFromDate(new Date(Date.now() - 600_000)),
    owner: create(OwnerSchema, {
      host: "here",
      pid: 4242,
      heartbeatTime: timestampFromDate(new Date(Date.now() - heartbeatAgoMs)),
    }),
  });
  printRun(output, run, false);
  return output.lines;
}

Deno.test("status says an owner whose heartbeat is older than the TTL is not answering, and what ends it", () => {
  const silent = lines(95_000).filter((l) => l.includes("not answering"));
  assertEquals(silent.length, 1, lines(95_000).join("\n"));
  assert(
    /no heartbeat for 9[5-6] s \(more than 60 s\); `swamp workflow cancel r-1` ends it/.test(
      silent[0],
    ),
    silent[0],
  );
  assertEquals(lines(5_000).filter((l) => l.includes("not answering")), []);
});

Deno.test("-v shows when a step ran, the process that ran it and where it was placed", () => {
  const at = (iso: string) => timestampFromDate(new Date(iso));
  const step = create(StepSchema, {
    id: "build/push",
    startTime: at("2026-11-21T09:00:01Z"),
    endTime: at("2026-11-21T09:00:03Z"),
    exitCode: 2,
    attempt: 2,
    process: create(StepProcessSchema, {
      pid: 4250,
      pgid: 4250,
      executor: "remote",
      workerId: "w-1",
      leaseId: "l-9",
    }),
    placement: create(PlacementSchema, {
      target: "pool",
      labels: { region: "eu" },
      workerId: "w-1",
      workerName: "builder",
      leaseId: "l-9",
      leaseEpoch: 3,
    }),
  });
  assertEquals(stepDetails(step), [
    "started 2026-11-21 09:00:01Z, ended 2026-11-21 09:00:03Z, exit 2, attempt 2",
    "process pid 4250 pgid 4250, executor remote, worker w-1, lease l-9",
    "placement target pool, labels region=eu, on worker builder (w-1), lease l-9 epoch 3",
  ]);
  assertEquals(stepDetails(create(StepSchema, { id: "build/later" })), []);
});
