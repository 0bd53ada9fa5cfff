import { create } from "@bufbuild/protobuf";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { GetRunResponseSchema } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { isSettledRun, runStatusText } from "../../runtime/mod.ts";
import { leftRunHints, printLogLine, stateExit } from "../follow.ts";
import { paintStatus } from "../render_run.ts";
import { UsageError } from "../types.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const from = typeof ctx.flags.from === "string" ? ctx.flags.from : "0";
  if (!/^\d+$/.test(from)) throw new UsageError("--from takes a sequence number, e.g. --from 120");
  const follow = ctx.flags.follow === true;
  const lines = ctx.runs.readLogs({
    runId: ctx.args[0],
    follow,
    step: typeof ctx.flags.step === "string" ? ctx.flags.step : "",
    afterSeq: BigInt(from),
  })[Symbol.asyncIterator]();
  // Following, Ctrl-C stops reading (the run goes on; it is not this command's to cancel).
  let interrupted = false;
  let stop = () => {};
  const stopped = new Promise<IteratorResult<never>>((resolve) =>
    stop = () => resolve({ done: true, value: undefined })
  );
  const onInterrupt = () => {
    interrupted = true;
    stop();
  };
  if (follow) Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    for (;;) {
      const next = await Promise.race([lines.next(), stopped]);
      if (next.done) break;
      const { line } = next.value;
      if (!line) continue;
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify(cliJson(LogLineSchema, line))}\n`);
      } else printLogLine(ctx.out, line);
    }
  } finally {
    if (follow) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  if (interrupted) lines.return?.().catch(() => {});
  if (!follow) return 0;
  // Followed to its end (or to Ctrl-C): the last line says how the run stands, and so does the
  // exit status: its outcome, or 13 (run_active) when it goes on.
  const run = (await ctx.runs.getRun({ runId: ctx.args[0] })).run!;
  if (ctx.out.json) {
    const document = cliJson(GetRunResponseSchema, create(GetRunResponseSchema, { run }));
    ctx.out.raw(`${JSON.stringify(document)}\n`);
  }
  ctx.out.info(
    `run ${run.id} ${paintStatus(ctx.out, runStatusText(run.status))}${
      run.reason ? `: ${run.reason}` : ""
    }`,
  );
  if (interrupted && !isSettledRun(run.status)) {
    for (const line of leftRunHints(run.id, "detached")) ctx.out.stderr(`${line}\n`);
  }
  return stateExit(run);
}
