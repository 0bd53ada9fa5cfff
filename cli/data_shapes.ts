// How `swamp data` commands show data items: the --json shape of an item
// (docs/reference/data.md#json) and the opened repository data.
import type { DataItem, DataStore, RunStore } from "../runtime/mod.ts";
import type { CommandContext } from "./context.ts";
import { openRepoStore } from "./wiring.ts";
import { repoData } from "./data_reader.ts";
import { UsageError } from "./types.ts";

/** An item as --json prints it: times as RFC 3339 text, absent fields absent. */
export function itemJson(item: DataItem, withAttributes = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: item.id,
    model: item.model,
    modelType: item.modelType,
    name: item.name,
    spec: item.spec,
    version: item.version,
    hash: item.hash,
    tags: item.tags,
    runId: item.runId,
    stepId: item.stepId,
    attempt: item.attempt,
    createTime: item.createTime.toISOString(),
  };
  if (item.leaseId !== undefined) out.leaseId = item.leaseId;
  if (withAttributes) out.attributes = item.attributes;
  return out;
}

/** The repository's data (with the runtime models); call `close` when done. */
export async function openData(
  ctx: CommandContext,
): Promise<{ data: DataStore; close(): Promise<void> }> {
  const root = await ctx.locator.root();
  const store: RunStore = await openRepoStore(root);
  return { data: repoData(root, store), close: () => store.close() };
}

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
export const shownTime = (time: Date): string =>
  time.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
