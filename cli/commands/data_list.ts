import type { CommandContext } from "../context.ts";
import { intFlag, itemJson, openData, shownTime } from "../data_shapes.ts";

const text = (ctx: CommandContext, name: string) =>
  typeof ctx.flags[name] === "string" ? ctx.flags[name] as string : undefined;

export async function run(ctx: CommandContext): Promise<number> {
  const limit = intFlag(ctx, "limit", 1, 10_000) ?? 20;
  const query = {
    model: text(ctx, "model"),
    spec: text(ctx, "spec"),
    runId: text(ctx, "run"),
    allVersions: ctx.flags["all-versions"] === true,
    limit,
    cursor: text(ctx, "cursor"),
  };
  const { data, close } = await openData(ctx);
  try {
    const page = await data.listData(query);
    const doc: Record<string, unknown> = { items: page.items.map((i) => itemJson(i, false)) };
    if (page.nextCursor) doc.nextCursor = page.nextCursor;
    ctx.out.document(doc);
    if (page.items.length === 0) ctx.out.info("no data items");
    else if (ctx.out.quiet) {
      // MODEL and NAME, tab-separated: what `swamp data get` takes.
      for (const item of page.items) ctx.out.line(`${item.model}\t${item.name}`);
    } else {
      ctx.out.table(
        ["MODEL", "NAME", "VERSION", "SPEC", "HASH", "RUN", "CREATED"],
        page.items.map((item) => [
          item.model,
          item.name,
          String(item.version),
          item.spec || "-",
          item.hash.slice(0, 19),
          item.runId ? item.runId.slice(0, 8) : "-",
          shownTime(item.createTime),
        ]),
      );
    }
    if (page.nextCursor) {
      const filters = Object.entries({ model: query.model, spec: query.spec, run: query.runId })
        .flatMap(([k, v]) => v === undefined ? [] : [`--${k}`, v]);
      if (query.allVersions) filters.push("--all-versions");
      if (ctx.flags.limit !== undefined) filters.push("--limit", String(limit));
      ctx.out.info(`more: swamp data list ${[...filters, "--cursor", page.nextCursor].join(" ")}`);
    }
    return 0;
  } finally {
    await close();
  }
}
