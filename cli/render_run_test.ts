import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OwnerSchema, RunSchema, RunStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { assert, assertEquals } from "../test/helpers/assert.ts";
import { Output } from "./output.ts";
import { printRun } from "./render_run.ts";

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
