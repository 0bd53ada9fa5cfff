// data.* in expressions: before an evaluation, find the data calls in the
// expressions, compute their arguments (in the sandbox, with the same
// variables), read those items, and bind the answers as the variable `data`,
// so the sandbox never calls out (docs/reference/data.md#in-expressions).
import type { DataItem, DataStore } from "../ports/data.ts";
import type { ExpressionEvaluator, ExpressionResult } from "../ports/expressions.ts";
import { dataCallKey, dataCalls } from "../expressions/data_calls.ts";
import { MAX_DATA_LIMIT } from "./items.ts";

/** What data.* reads. */
export type DataReader = Pick<DataStore, "getData" | "listDataVersions" | "listData">;

/** At most this many records in the answer of one findBySpec or findByTag call. */
export const FIND_LIMIT = MAX_DATA_LIMIT;

/** A data item as expressions see it. */
export function celRecord(item: DataItem) {
  return {
    id: item.id,
    name: item.name,
    version: item.version,
    createdAt: item.createTime.toISOString(),
    attributes: item.attributes,
    tags: item.tags,
  };
}

const arity: Record<string, number> = {
  latest: 2,
  version: 3,
  listVersions: 2,
  findBySpec: 2,
  findByTag: 2,
};

async function answer(reader: DataReader, fn: string, args: unknown[]): Promise<unknown> {
  const [a, b, c] = args as [string, string, number];
  switch (fn) {
    case "latest": {
      const item = await reader.getData(a, b);
      return item ? celRecord(item) : null;
    }
    case "version": {
      const item = await reader.getData(a, b, c);
      return item ? celRecord(item) : null;
    }
    case "listVersions":
      return await reader.listDataVersions(a, b);
    case "findBySpec":
      return (await reader.listData({ model: a, spec: b, limit: FIND_LIMIT })).items.map(celRecord);
    case "findByTag":
      return (await reader.listData({ tag: [a, b], limit: FIND_LIMIT })).items.map(celRecord);
  }
  return undefined;
}

const wellTyped = (fn: string, values: unknown[]) =>
  values.length === arity[fn] &&
  values.every((v, i) =>
    fn === "version" && i === 2 ? Number.isSafeInteger(v) : typeof v === "string"
  );

/**
 * The snapshot the expressions' data calls need, keyed as the sandbox looks
 * them up; undefined when they make none. A call whose arguments cannot be
 * computed first (a loop variable, a nested data call) is left out: the
 * sandbox then fails that expression saying so.
 */
export async function dataSnapshot(
  expressions: string[],
  variables: Record<string, unknown>,
  evaluator: ExpressionEvaluator,
  reader: DataReader,
): Promise<Record<string, unknown> | undefined> {
  const calls = expressions.flatMap(dataCalls).filter((call) =>
    arity[call.fn] === call.args.length
  );
  if (calls.length === 0) return undefined;
  const texts = [...new Set(calls.flatMap((call) => call.args))]
    .filter((text) => !/\bdata\s*\./.test(text));
  const results = texts.length > 0 ? await evaluator.evaluate(texts, variables) : [];
  const computed = new Map<string, ExpressionResult>(texts.map((t, i) => [t, results[i]]));
  const snapshot: Record<string, unknown> = {};
  for (const call of calls) {
    const values: unknown[] = [];
    for (const text of call.args) {
      const result = computed.get(text);
      if (!result?.ok) break;
      values.push(result.value);
    }
    if (!wellTyped(call.fn, values)) continue;
    const key = dataCallKey(call.fn, values);
    if (!(key in snapshot)) snapshot[key] = await answer(reader, call.fn, values);
  }
  return snapshot;
}

/**
 * An evaluator whose evaluations may call data.*: each evaluate that names
 * `data` gets its own snapshot from `reader` first. `reader` is asked for
 * only then, so a run that reads no data opens nothing.
 */
export function withDataSnapshots(
  inner: ExpressionEvaluator,
  reader: () => Promise<DataReader>,
): ExpressionEvaluator {
  return {
    check: (expressions, known) => inner.check(expressions, known),
    async evaluate(expressions, variables) {
      if (!expressions.some((e) => e.includes("data"))) {
        return inner.evaluate(expressions, variables);
      }
      const snapshot = await dataSnapshot(expressions, variables, inner, await reader());
      return inner.evaluate(expressions, snapshot ? { ...variables, data: snapshot } : variables);
    },
    close: () => inner.close(),
  };
}
