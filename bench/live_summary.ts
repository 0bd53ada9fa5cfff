// The live summary's cost as a fan-out grows: 1,000 items (the baseline) against 10,000 and
// 100,000, measured in the same run. Each item is added, starts and succeeds (three events), and a
// frame is drawn every hundred events, as a busy run would between two 100 ms ticks. The target is
// on the cost of a frame: bounded by the screen, its ratio stays near 1, where a redraw that walked
// every step would grow with the run (about 100× at 100,000 items). The cost of folding an event
// in is printed too; it is constant work (a few map operations) but grows somewhat with the run
// as its maps outgrow the CPU caches.
// Run: deno run --allow-all bench/live_summary.ts  (BENCH_RUNS to override)
import { create } from "@bufbuild/protobuf";
import { RunEventSchema, StepStatusChangedSchema } from "../proto/gen/swamp/v1/event_pb.ts";
import type { RunEvent } from "../proto/gen/swamp/v1/event_pb.ts";
import { RunSchema, StepSchema, StepStatus } from "../proto/gen/swamp/v1/run_pb.ts";
import { LiveDisplay } from "../cli/live_display.ts";
import { envInt, median } from "./lib.ts";

function events(n: number): RunEvent[] {
  let seq = 0n;
  const change = (stepId: string, to: StepStatus, added?: boolean, i = 0) =>
    create(RunEventSchema, {
      seq: ++seq,
      payload: {
        case: "stepStatusChanged",
        value: create(StepStatusChangedSchema, {
          stepId,
          to,
          added: added
            ? create(StepSchema, { id: stepId, name: `fan host-${i}`, templateId: "main/fan" })
            : undefined,
        }),
      },
    });
  const out: RunEvent[] = [change("main/fan", StepStatus.RUNNING)];
  for (let i = 0; i < n; i++) out.push(change(`main/fan[${i}]`, StepStatus.PENDING, true, i));
  for (let i = 0; i < n; i++) {
    out.push(change(`main/fan[${i}]`, StepStatus.RUNNING));
    if (i >= 16) out.push(change(`main/fan[${i - 16}]`, StepStatus.SUCCEEDED));
  }
  return out;
}

/**
 * Nanoseconds per event folded in (with a frame every hundred events, as a busy run draws), then
 * per frame of the run as it stands at the end (16 running), timed apart from any folding.
 */
function perEvent(list: RunEvent[]): { event: number; frame: number } {
  const display = new LiveDisplay("0f5c0000", undefined, {
    status: () => {},
    output: () => {},
    columns: () => 120,
  });
  display.seed(create(RunSchema, { steps: [create(StepSchema, { id: "main/fan" })] }));
  const t0 = performance.now();
  for (let i = 0; i < list.length; i++) {
    display.event(list[i]);
    if (i % 100 === 99) display.draw();
  }
  const folding = performance.now() - t0;
  // A change that changes nothing but makes the next frame due.
  const nudge = list[list.length - 1];
  const frames = 2_000;
  const t1 = performance.now();
  for (let i = 0; i < frames; i++) {
    display.event(nudge);
    display.draw();
  }
  const drawing = performance.now() - t1;
  return { event: (folding * 1e6) / list.length, frame: (drawing * 1e6) / frames };
}

export function main(): void {
  const runs = envInt("BENCH_RUNS", 7);
  const sizes = [1_000, 10_000, 100_000];
  const lists = sizes.map(events);
  const samples = sizes.map(() => [] as { event: number; frame: number }[]);
  perEvent(lists[0]); // warm-up
  for (let r = 0; r < runs; r++) {
    lists.forEach((list, i) => samples[i].push(perEvent(list)));
  }
  const of = (i: number, key: "event" | "frame") => median(samples[i].map((s) => s[key]));
  console.log("live summary: cost per frame and per event, against 1,000 items");
  sizes.forEach((n, i) => {
    console.log(
      `  ${String(n).padStart(7)} items  frame ${of(i, "frame").toFixed(0).padStart(6)} ns (${
        (of(i, "frame") / of(0, "frame")).toFixed(2)
      }×)  event ${of(i, "event").toFixed(0).padStart(5)} ns (${
        (of(i, "event") / of(0, "event")).toFixed(2)
      }×)`,
    );
  });
  const worst = of(2, "frame") / of(0, "frame");
  console.log(
    `  target: a frame at 100,000 items at most 3.0× one at 1,000: ${worst <= 3 ? "PASS" : "FAIL"}`,
  );
}

if (import.meta.main) main();
