import {
  type DataItem,
  ErrorCode,
  type ExpressionEvaluator,
  SwampError,
} from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { itemJson, openData, shownTime } from "../data_shapes.ts";
import { lazyEvaluator } from "../evaluator.ts";

/** Items evaluated per sandbox call: one expression over a list of this many. */
const batchSize = 200;

/** An item as the predicate sees it. */
const asItem = (item: DataItem) => ({
  ...itemJson(item),
  createdAt: item.createTime.toISOString(),
});

function invalid(predicate: string, error: string, where = ""): SwampError {
  return new SwampError(
    ErrorCode.EXPRESSION_INVALID,
    `the predicate \`${predicate}\` ${where}failed: ${error}`,
    {
      hint:
        "write a CEL expression over `item` that gives true or false, e.g. item.attributes.size > 3; guard fields some items lack with has(item.attributes.x)",
    },
  );
}

/** Which items of the batch the predicate holds for; an error names the first item it failed on. */
async function matching(
  evaluator: ExpressionEvaluator,
  predicate: string,
  batch: DataItem[],
): Promise<DataItem[]> {
  const wrapped = `__items.map(item, (\n${predicate}\n))`;
  const [result] = await evaluator.evaluate([wrapped], { __items: batch.map(asItem) });
  if (result.ok && Array.isArray(result.value)) {
    const bad = result.value.findIndex((v) => typeof v !== "boolean");
    if (bad < 0) return batch.filter((_, i) => result.value && (result.value as boolean[])[i]);
    throw invalid(
      predicate,
      `it gave ${JSON.stringify(result.value[bad])}, not true or false`,
      `on ${batch[bad].model} ${batch[bad].name} `,
    );
  }
  // Find the item it fails on, to say which.
  for (const item of batch) {
    const [one] = await evaluator.evaluate([predicate], { item: asItem(item) });
    if (!one.ok) throw invalid(predicate, one.error, `on ${item.model} ${item.name} `);
  }
  throw invalid(predicate, result.ok ? "unexpected result" : result.error);
}

export async function run(ctx: CommandContext): Promise<number> {
  const [predicate] = ctx.args;
  const evaluator = lazyEvaluator();
  const { data, close } = await openData(ctx);
  try {
    const [check] = await evaluator.check([predicate], ["item"]);
    if (!check.ok) throw invalid(predicate, check.error);
    const found: DataItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await data.listData({ limit: batchSize, cursor });
      if (page.items.length > 0) found.push(...await matching(evaluator, predicate, page.items));
      cursor = page.nextCursor;
    } while (cursor);
    ctx.out.document({ items: found.map((item) => itemJson(item)) });
    if (found.length === 0) ctx.out.info("no data items match");
    else if (ctx.out.quiet) {
      for (const item of found) ctx.out.line(`${item.model}\t${item.name}`);
    } else {
      ctx.out.table(
        ["MODEL", "NAME", "VERSION", "SPEC", "CREATED"],
        found.map((item) => [
          item.model,
          item.name,
          String(item.version),
          item.spec || "-",
          shownTime(item.createTime),
        ]),
      );
    }
    return 0;
  } finally {
    await close();
    await evaluator.close();
  }
}
