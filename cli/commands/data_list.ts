import { ListDataResponseSchema } from "../../proto/gen/swamp/v1/data_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { intFlag, printItems } from "../data_shapes.ts";
import { cliJson } from "../json_shape.ts";

const text = (ctx: CommandContext, name: string) =>
  typeof ctx.flags[name] === "string" ? ctx.flags[name] as string : "";

export async function run(ctx: CommandContext): Promise<number> {
  const limit = intFlag(ctx, "limit", 1, 10_000) ?? 20;
  const request = {
    model: text(ctx, "model"),
    spec: text(ctx, "spec"),
    runId: text(ctx, "run"),
    allVersions: ctx.flags["all-versions"] === true,
    limit,
    cursor: text(ctx, "cursor"),
  };
  const page = await ctx.data.listData(request);
  ctx.out.document(cliJson(ListDataResponseSchema, page));
  if (page.items.length === 0) ctx.out.info("no data items");
  else printItems(ctx, page.items);
  if (page.nextCursor) {
    const filters = Object.entries({ model: request.model, spec: request.spec, run: request.runId })
      .flatMap(([k, v]) => v ? [`--${k}`, v] : []);
    if (request.allVersions) filters.push("--all-versions");
    if (ctx.flags.limit !== undefined) filters.push("--limit", String(limit));
    ctx.out.info(`more: swamp data list ${[...filters, "--cursor", page.nextCursor].join(" ")}`);
  }
  return 0;
}
