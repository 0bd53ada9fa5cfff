import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type RunEvent,
  RunEventSchema,
  RunStatusChangedSchema,
  StepStatusChangedSchema,
} from "../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema, RunStatus, StepSchema, StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { assert, assertEquals, assertMatch } from "../test/helpers/assert.ts";
import { LiveDisplay, type Screen } from "./live_display.ts";
import { ansiPaint, elapsedText, fit } from "./live_summary.ts";

/** A screen that keeps what was written, `columns` wide. */
function bufferScreen(columns = 60) {
  const written = { status: "", output: "" };
  const screen: Screen = {
    status: (text) => written.status += text,
    output: (text) => written.output += text,
    columns: () => columns,
  };
  return { screen, written };
}

let seq = 0n;
function event(payload: RunEvent["payload"], reason = ""): RunEvent {
  return create(RunEventSchema, { seq: ++seq, time: timestampFromMs(1_000), reason, payload });
}

function stepChange(stepId: string, from: StepStatus, to: StepStatus, reason = ""): RunEvent {
  return event({
    case: "stepStatusChanged",
    value: create(StepStatusChangedSchema, { stepId, from, to }),
  }, reason);
}

/** A run whose forEach step `main/fan` expands into `n` items named `host-<i>`. */
function fanOut(n: number): RunEvent[] {
  const template = "main/fan ${{ self.host }}";
  return [
    event({
      case: "runStatusChanged",
      value: create(RunStatusChangedSchema, { from: RunStatus.PENDING, to: RunStatus.RUNNING }),
    }),
    stepChange(template, StepStatus.PENDING, StepStatus.RUNNING, `${n} items`),
    ...Array.from({ length: n }, (_, i) =>
      event({
        case: "stepStatusChanged",
        value: create(StepStatusChangedSchema, {
          stepId: `main/fan[${i}]`,
          to: StepStatus.PENDING,
          added: create(StepSchema, {
            id: `main/fan[${i}]`,
            name: `fan host-${i}`,
            templateId: template,
            itemIndex: i,
          }),
        }),
      })),
  ];
}

function seeded(display: LiveDisplay) {
  display.seed(create(RunSchema, {
    id: "0f5c0000-0000-0000-0000-000000000000",
    status: RunStatus.PENDING,
    steps: [create(StepSchema, { id: "main/fan ${{ self.host }}", name: "fan ${{ self.host }}" })],
  }));
}

Deno.test("the summary counts items, names the running ones as evaluated, and prints failures above", () => {
  seq = 0n;
  const { screen, written } = bufferScreen(80);
  const display = new LiveDisplay("0f5c0000", undefined, screen, () => 61_000);
  seeded(display);
  for (const e of fanOut(5)) display.event(e);
  for (const i of [0, 1, 2]) {
    display.event(stepChange(`main/fan[${i}]`, StepStatus.PENDING, StepStatus.RUNNING));
  }
  display.event(stepChange("main/fan[0]", StepStatus.RUNNING, StepStatus.SUCCEEDED));
  display.event(
    stepChange("main/fan[1]", StepStatus.RUNNING, StepStatus.FAILED, "exited with status 3"),
  );
  display.draw();
  const [failure, counts, running] = written.status.split("\n");
  assertEquals(failure, "✗ fan host-1 (main/fan[1]) failed  exited with status 3");
  assertEquals(
    counts,
    "run 0f5c0000 running  1m00s  1 of 5 succeeded, 1 running, 1 failed, 2 pending",
  );
  assertEquals(running, "running: fan host-2");
  assert(!written.status.includes("${{"), written.status);

  // The next frame first takes the last one off the screen: two lines up, cleared.
  display.event(stepChange("main/fan[2]", StepStatus.RUNNING, StepStatus.SUCCEEDED));
  display.finish();
  assert(written.status.includes("running: fan host-2\r\x1b[1A\x1b[J"), written.status);
  assert(
    written.status.endsWith("run 0f5c0000 running  1m00s  2 of 5 succeeded, 1 failed, 2 pending\n"),
  );
});

Deno.test("a burst of 10,000 events is one frame of at most two lines within the width", () => {
  seq = 0n;
  const columns = 70;
  const { screen, written } = bufferScreen(columns);
  const display = new LiveDisplay("0f5c0000", ansiPaint, screen, () => 5_000);
  seeded(display);
  for (const e of fanOut(10_000)) display.event(e);
  for (let i = 0; i < 10_000; i++) {
    display.event(stepChange(`main/fan[${i}]`, StepStatus.PENDING, StepStatus.RUNNING));
  }
  display.draw();
  display.draw(); // nothing changed: no frame
  assertEquals(display.frames, 1);
  // deno-lint-ignore no-control-regex
  const visible = written.status.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split("\n");
  assertEquals(visible.length, 2);
  for (const line of visible) assert(line.length < columns, `too wide: ${line}`);
  assertMatch(visible[0], /0 of 10000 succeeded, 10000 running/);
  assertMatch(visible[1], /^running: fan host-0, fan host-1, .*\(\+\d+ more\)$/);
});

Deno.test("frames cost the same however many events came before them", () => {
  // Every frame's text is bounded by the screen, not by the run: with 10,000 items settled one
  // by one and a frame after each hundred, no frame writes more than two lines of the width.
  seq = 0n;
  const { screen, written } = bufferScreen(60);
  const display = new LiveDisplay("0f5c0000", undefined, screen, () => 0);
  seeded(display);
  for (const e of fanOut(10_000)) display.event(e);
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    display.event(stepChange(`main/fan[${i}]`, StepStatus.PENDING, StepStatus.SUCCEEDED));
    if (i % 100 === 99) {
      const before = written.status.length;
      display.draw();
      largest = Math.max(largest, written.status.length - before);
    }
  }
  assertEquals(display.frames, 100);
  assert(largest < 2 * 60 + 16, `a frame of ${largest} characters`);
  assertMatch(written.status, /10000 of 10000 succeeded$/);
});

Deno.test("fit cuts to the width with an ellipsis and keeps colour codes out of the count", () => {
  assertEquals(fit([["abcdef"], ["ghij"]], 8), "abcdefg…");
  assertEquals(fit([["ab", ansiPaint.red]], 8), "\x1b[31mab\x1b[0m");
  assertEquals([elapsedText(5_400), elapsedText(65_000), elapsedText(7_500_000)], [
    "5s",
    "1m05s",
    "2h05m",
  ]);
});
