import { CreateTokenResponseSchema } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { parseRole, roleName } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { parseDuration } from "../duration.ts";
import { UsageError } from "../types.ts";
import { when } from "../time_text.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const roleText = typeof ctx.flags.role === "string" ? ctx.flags.role : "";
  const role = parseRole(roleText);
  if (role === undefined) {
    throw new UsageError(
      roleText ? `unknown role \`${roleText}\`` : "a token needs --role",
      "--role viewer, operator, approver or admin",
    );
  }
  const duration = typeof ctx.flags.duration === "string"
    ? parseDuration(ctx.flags.duration, "--duration")
    : undefined;
  const created = await ctx.auth.createToken({
    name: ctx.args[0],
    role,
    durationSeconds: duration === undefined ? 0n : BigInt(Math.ceil(duration / 1000)),
  });
  ctx.out.document(cliJson(CreateTokenResponseSchema, created));
  const token = created.token!;
  ctx.out.info(
    `created token ${token.name} (role ${roleName(token.role)}, expires ${when(token.expireTime)})`,
  );
  ctx.out.line(created.credential);
  ctx.out.info("this is the only time the secret is shown: store it now (only its hash is kept)");
  return 0;
}
