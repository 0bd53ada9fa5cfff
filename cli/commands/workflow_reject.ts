import { decideGate } from "./gate_decision.ts";
import type { CommandContext } from "../context.ts";

export function run(ctx: CommandContext): Promise<number> {
  return decideGate(ctx, false);
}
