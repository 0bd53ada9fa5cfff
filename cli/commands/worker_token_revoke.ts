import { RevokeWorkerTokenResponseSchema } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { when } from "../time_text.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const revoked = await ctx.workers.revokeWorkerToken({ name: ctx.args[0] });
  ctx.out.document(
    cliJson(RevokeWorkerTokenResponseSchema, revoked),
  );
  const token = revoked.token!;
  ctx.out.line(
    revoked.changed
      ? `revoked worker token ${token.name}; it is refused from now on`
      : `worker token ${token.name} was already revoked at ${when(token.revokeTime)}`,
  );
  return 0;
}
