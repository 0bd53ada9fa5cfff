import type { JsonObject } from "@bufbuild/protobuf";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import { fanOutSummaries, type FanOutSummary, nameList } from "../runtime/mod.ts";
import type { Output } from "./output.ts";

// `workflow status` per forEach step: how many items ended how, and which
// failed, so failures a fan-out allowed are never hidden behind its
// `succeeded` (docs/design/0018-fan-out-outputs.md).

const order = [
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
  "abandoned",
  "running",
  "queued",
  "waiting_approval",
  "pending",
];

/** "2 succeeded, 1 failed (allowed): deploy-b". */
export function fanOutText(fan: FanOutSummary): string {
  const parts = order.filter((word) => fan.counts[word]).map((word) =>
    `${fan.counts[word]} ${word}${word === "failed" && fan.allowFailure ? " (allowed)" : ""}`
  );
  const failed = fan.failedItems.length > 0 ? `: ${nameList(fan.failedItems)}` : "";
  return `${fan.total} items: ${parts.join(", ")}${failed}`;
}

export function printFanOuts(out: Output, run: Run): void {
  const fans = fanOutSummaries(run);
  if (fans.length === 0) return;
  out.line("fan-outs:");
  for (const fan of fans) out.line(`  ${fan.step}  ${fanOutText(fan)}`);
}

/** The --json form: counts by lowercase status, zeros and empty lists absent (0016). */
export function fanOutsJson(run: Run): JsonObject[] {
  return fanOutSummaries(run).map((fan) => {
    const json: JsonObject = { step: fan.step, total: fan.total };
    for (const word of order) if (fan.counts[word]) json[camel(word)] = fan.counts[word];
    if (fan.failedItems.length > 0) json.failedItems = fan.failedItems;
    if (fan.allowFailure) json.allowFailure = true;
    return json;
  });
}

function camel(word: string): string {
  return word.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
}
