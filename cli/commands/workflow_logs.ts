import { toJson } from "@bufbuild/protobuf";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { CommandContext } from "../context.ts";
import { printLogLine } from "../follow.ts";
import { UsageError } from "../types.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const from = typeof ctx.flags.from === "string" ? ctx.flags.from : "0";
  if (!/^\d+$/.test(from)) throw new UsageError("--from takes a sequence number, e.g. --from 120");
  const lines = ctx.runs.readLogs({
    runId: ctx.args[0],
    follow: ctx.flags.follow === true,
    step: typeof ctx.flags.step === "string" ? ctx.flags.step : "",
    afterSeq: BigInt(from),
  });
  for await (const { line } of lines) {
    if (!line) continue;
    if (ctx.out.json) {
      ctx.out.raw(`${JSON.stringify(toJson(LogLineSchema, line, { alwaysEmitImplicit: true }))}\n`);
    } else printLogLine(ctx.out, line);
  }
  return 0;
}
