import { RevokeTokenResponseSchema } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { when } from "../time_text.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const revoked = await ctx.auth.revokeToken({ name: ctx.args[0] });
  ctx.out.document(cliJson(RevokeTokenResponseSchema, revoked));
  const token = revoked.token!;
  ctx.out.line(
    revoked.changed
      ? `revoked token ${token.name}; it is refused from now on`
      : `token ${token.name} was already revoked at ${when(token.revokeTime)}`,
  );
  return 0;
}
