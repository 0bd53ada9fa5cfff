import { WhoAmIResponseSchema } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { ActorKind, roleName } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const me = await ctx.auth.whoAmI({});
  ctx.out.document(cliJson(WhoAmIResponseSchema, me));
  const kind = me.kind === ActorKind.TOKEN ? "token" : "OS user";
  ctx.out.line(
    `${me.name} (${kind}, role ${roleName(me.role)})${ctx.server ? ` at ${ctx.server}` : ""}`,
  );
  return 0;
}
