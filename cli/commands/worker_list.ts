import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ListWorkersResponseSchema,
  WorkerState,
} from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { labelsText } from "./worker_token_list.ts";
import { cliJson } from "../json_shape.ts";

/** "WORKER_STATE_DRAINING" is "draining". */
export function workerStateName(state: WorkerState): string {
  return (WorkerState[state] ?? "UNSPECIFIED").replace(/^WORKER_STATE_/, "").toLowerCase();
}

export async function run(ctx: CommandContext): Promise<number> {
  const listed = await ctx.workers.listWorkers({});
  ctx.out.document(cliJson(ListWorkersResponseSchema, listed));
  if (listed.workers.length === 0) {
    ctx.out.info("no workers; start one with: swamp worker connect URL --token NAME.SECRET");
    return 0;
  }
  const rows = listed.workers.map((w) => [
    w.name,
    w.id,
    workerStateName(w.state),
    labelsText(w.labels) || "-",
    w.executors.join(",") || "loopback",
    // What it runs for other instances of the store counts against the same concurrency.
    `${w.running.length + w.runningElsewhere}/${w.concurrency}` +
    (w.runningElsewhere > 0 ? ` (${w.runningElsewhere} elsewhere)` : ""),
    String(w.protocolVersion),
    w.lastSeenTime ? timestampDate(w.lastSeenTime).toISOString() : "-",
  ]);
  const header = ["NAME", "ID", "STATE", "LABELS", "EXECUTORS", "RUNNING", "PROTOCOL", "LAST SEEN"];
  ctx.out.table(header, rows);
  return 0;
}
