// DataService in process (proto/swamp/v1/data_service.proto): the data items
// of a repository's store, with the runtime models (runtime/data), and
// `QueryData`, a CEL predicate over each newest item evaluated in the sandbox
// a batch of items per evaluation (docs/reference/data.md).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  type DataItem as DataItemMessage,
  DataItemSchema,
  type DataService,
  GetDataResponseSchema,
  ListDataResponseSchema,
  QueryDataResponseSchema,
} from "../../proto/gen/swamp/v1/data_service_pb.ts";
import type { DataItem, DataStore } from "../ports/data.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { MAX_DATA_LIMIT } from "../data/items.ts";
import type { ServiceImpl } from "./call_context.ts";

/** Items evaluated per sandbox call: one expression over a list of this many. */
const batchSize = 200;

/** An item as the message carries it; attributes only when asked for. */
export function dataItemMessage(item: DataItem, withAttributes: boolean): DataItemMessage {
  return create(DataItemSchema, {
    id: item.id,
    model: item.model,
    modelType: item.modelType,
    name: item.name,
    spec: item.spec,
    version: BigInt(item.version),
    hash: item.hash,
    attributes: withAttributes
      ? fromJson(ValueSchema, item.attributes as JsonValue) as Value
      : undefined,
    tags: { ...item.tags },
    runId: item.runId,
    stepId: item.stepId,
    attempt: item.attempt,
    leaseId: item.leaseId ?? "",
    createTime: timestampFromDate(item.createTime),
  });
}

/** An item as a query predicate sees it (docs/reference/data.md#commands). */
const predicateItem = (item: DataItem) => ({
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
  createdAt: item.createTime.toISOString(),
  attributes: item.attributes,
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

/** Which items of the batch the predicate holds for; an error names the first item it fails on. */
async function matching(
  evaluator: ExpressionEvaluator,
  predicate: string,
  batch: DataItem[],
): Promise<DataItem[]> {
  const wrapped = `__items.map(item, (\n${predicate}\n))`;
  const [result] = await evaluator.evaluate([wrapped], { __items: batch.map(predicateItem) });
  if (result.ok && Array.isArray(result.value)) {
    const values = result.value as unknown[];
    const bad = values.findIndex((v) => typeof v !== "boolean");
    if (bad < 0) return batch.filter((_, i) => values[i] === true);
    throw invalid(
      predicate,
      `it gave ${JSON.stringify(values[bad])}, not true or false`,
      `on ${batch[bad].model} ${batch[bad].name} `,
    );
  }
  for (const item of batch) {
    const [one] = await evaluator.evaluate([predicate], { item: predicateItem(item) });
    if (!one.ok) throw invalid(predicate, one.error, `on ${item.model} ${item.name} `);
  }
  throw invalid(predicate, result.ok ? "it did not give a list" : result.error);
}

/** The newest items (of `model` when given) `predicate` holds for, in listing order. */
export async function queryData(
  data: DataStore,
  evaluator: ExpressionEvaluator,
  predicate: string,
  model?: string,
): Promise<DataItem[]> {
  const [check] = await evaluator.check([predicate], ["item"]);
  if (!check.ok) throw invalid(predicate, check.error);
  const found: DataItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await data.listData({ model, limit: batchSize, cursor });
    if (page.items.length > 0) found.push(...await matching(evaluator, predicate, page.items));
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

export function localDataService(
  data: () => Promise<DataStore>,
  evaluator: () => ExpressionEvaluator,
): ServiceImpl<typeof DataService> {
  return {
    async listData(request) {
      const limit = request.limit || 20;
      if (limit > MAX_DATA_LIMIT) {
        throw new SwampError(ErrorCode.USAGE, `limit ${limit} is out of range`, {
          hint: `pass a limit from 1 to ${MAX_DATA_LIMIT}`,
        });
      }
      const page = await (await data()).listData({
        model: request.model || undefined,
        spec: request.spec || undefined,
        runId: request.runId || undefined,
        allVersions: request.allVersions,
        limit,
        cursor: request.cursor || undefined,
      });
      return create(ListDataResponseSchema, {
        items: page.items.map((item) => dataItemMessage(item, false)),
        nextCursor: page.nextCursor ?? "",
      });
    },
    async getData(request) {
      const store = await data();
      const model = request.model ?? "";
      const name = request.name ?? "";
      const version = request.version ? Number(request.version) : undefined;
      const item = await store.getData(model, name, version);
      const versions = await store.listDataVersions(model, name);
      if (!item) {
        throw new SwampError(
          ErrorCode.NOT_FOUND,
          versions.length === 0
            ? `no data item ${name} of model ${model}`
            : `data item ${name} of model ${model} has no version ${version}`,
          {
            hint: versions.length === 0
              ? `list what there is: swamp data list --model ${model}`
              : `its versions: ${versions.join(", ")}`,
          },
        );
      }
      return create(GetDataResponseSchema, {
        item: dataItemMessage(item, true),
        versions: versions.map(BigInt),
      });
    },
    async queryData(request) {
      const found = await queryData(
        await data(),
        evaluator(),
        request.predicate ?? "",
        request.model || undefined,
      );
      return create(QueryDataResponseSchema, {
        items: found.map((item) => dataItemMessage(item, true)),
      });
    },
  };
}
