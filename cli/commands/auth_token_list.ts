import {
  ApiTokenState,
  ListTokensResponseSchema,
} from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { roleName } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { when } from "../time_text.ts";
import { cliJson } from "../json_shape.ts";

export function stateName(state: ApiTokenState): string {
  return (ApiTokenState[state] ?? "UNSPECIFIED").replace(/^API_TOKEN_STATE_/, "").toLowerCase();
}

export async function run(ctx: CommandContext): Promise<number> {
  const listed = await ctx.auth.listTokens({});
  ctx.out.document(cliJson(ListTokensResponseSchema, listed));
  if (listed.tokens.length === 0) {
    ctx.out.info("no API tokens; create one with: swamp auth token create NAME --role ROLE");
    return 0;
  }
  const rows = listed.tokens.map((t) => [
    t.name,
    roleName(t.role),
    stateName(t.state),
    when(t.revokeTime ?? t.expireTime),
    t.createdBy,
  ]);
  const header = ["NAME", "ROLE", "STATE", "UNTIL", "CREATED BY"];
  ctx.out.table(header, rows);
  return 0;
}
