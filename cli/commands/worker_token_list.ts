import {
  ListWorkerTokensResponseSchema,
  WorkerTokenState,
} from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { when } from "../time_text.ts";
import { cliJson } from "../json_shape.ts";

/** "WORKER_TOKEN_STATE_ENROLLED" is "enrolled". */
export function workerTokenStateName(state: WorkerTokenState): string {
  return (WorkerTokenState[state] ?? "UNSPECIFIED").replace(/^WORKER_TOKEN_STATE_/, "")
    .toLowerCase();
}

/** `gpu=true,zone=eu-1`, keys in order. */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((key) => `${key}=${labels[key]}`).join(",");
}

export async function run(ctx: CommandContext): Promise<number> {
  const listed = await ctx.workers.listWorkerTokens({});
  ctx.out.document(cliJson(ListWorkerTokensResponseSchema, listed));
  if (listed.tokens.length === 0) {
    ctx.out.info("no worker tokens; create one with: swamp worker token create NAME --duration 8h");
    return 0;
  }
  const rows = listed.tokens.map((t) => [
    t.name,
    workerTokenStateName(t.effectiveState),
    workerTokenStateName(t.state),
    when(t.expireTime),
    t.boundMachineId || "-",
    labelsText(t.labels) || "-",
  ]);
  const header = ["NAME", "STATE", "RECORDED", "EXPIRES", "MACHINE", "LABELS"];
  ctx.out.table(header, rows);
  return 0;
}
