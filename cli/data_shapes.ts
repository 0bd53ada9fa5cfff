// How `swamp data` commands show data items (docs/reference/data.md#json).
import type { DataItem } from "../proto/gen/swamp/v1/data_service_pb.ts";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CommandContext } from "./context.ts";
import { UsageError } from "./types.ts";

/** A whole-number flag within bounds, or a usage error. */
export function intFlag(ctx: CommandContext, name: string, min: number, max: number) {
  const text = ctx.flags[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `2026-12-01 09:00:00Z`, as other listings show times. */
export const shownTime = (item: DataItem): string =>
  item.createTime
    ? timestampDate(item.createTime).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")
    : "-";

/** The table `data list` and `data query` print; with -q, MODEL<TAB>NAME lines. */
export function printItems(ctx: CommandContext, items: DataItem[]): void {
  if (ctx.out.quiet) {
    // MODEL and NAME, tab-separated: what `swamp data get` takes.
    for (const item of items) ctx.out.line(`${item.model}\t${item.name}`);
    return;
  }
  ctx.out.table(
    ["MODEL", "NAME", "VERSION", "SPEC", "HASH", "RUN", "CREATED"],
    items.map((item) => [
      item.model,
      item.name,
      String(item.version),
      item.spec || "-",
      item.hash.slice(0, 19),
      item.runId ? item.runId.slice(0, 8) : "-",
      shownTime(item),
    ]),
  );
}
