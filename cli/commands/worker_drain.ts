import { DrainWorkerResponseSchema } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const drained = await ctx.workers.drainWorker({ worker: ctx.args[0] });
  ctx.out.document(cliJson(DrainWorkerResponseSchema, drained));
  const worker = drained.worker!;
  const running = worker.running.length;
  ctx.out.line(
    drained.changed
      ? `worker ${worker.name} is draining: no new steps; ${running} running step(s) finish`
      : `worker ${worker.name} was already draining (${running} running step(s))`,
  );
  return 0;
}
