import { QueryDataResponseSchema } from "../../proto/gen/swamp/v1/data_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { printItems } from "../data_shapes.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const [predicate] = ctx.args;
  const model = typeof ctx.flags.model === "string" ? ctx.flags.model : "";
  const result = await ctx.data.queryData({ predicate, model });
  ctx.out.document(cliJson(QueryDataResponseSchema, result));
  if (result.items.length === 0) ctx.out.info("no data items match");
  else printItems(ctx, result.items);
  return 0;
}
