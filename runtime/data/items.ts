// What every data store shares (runtime/ports/data.ts): the canonical JSON
// and hash of attributes, the size limit, sealing a draft into an item, the
// listing order and its cursor, and the query filter.
import {
  type DataDraft,
  type DataItem,
  type DataQuery,
  MAX_DATA_ATTRIBUTES_BYTES,
} from "../ports/data.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { sha256HexSync } from "../text/sha256.ts";

/** Default and largest page of a listing. */
export const DEFAULT_DATA_LIMIT = 100;
export const MAX_DATA_LIMIT = 10_000;

/**
 * JSON with object keys sorted (by UTF-16 code unit), no spaces: the same
 * text for the same value, whatever order its keys were built in. Refuses
 * what is not JSON (undefined, functions, bigints, non-finite numbers).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw notJson(`the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw notJson(value instanceof Date ? "a Date" : `a ${typeof value}`);
}

function notJson(what: string): SwampError {
  return new SwampError(ErrorCode.USAGE, `data attributes must be JSON; found ${what}`, {
    hint: "write strings, numbers, booleans, null, arrays and objects only",
  });
}

/** The canonical JSON of a draft's attributes and its `sha256:<hex>`, checked against the size limit. */
export function hashAttributes(
  attributes: unknown,
  label = "the data item",
): { json: string; hash: string } {
  const json = canonicalJson(attributes);
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > MAX_DATA_ATTRIBUTES_BYTES) {
    throw new SwampError(
      ErrorCode.DATA_TOO_LARGE,
      `${label} is too large: its attributes are ${bytes} bytes of JSON, over the limit of ${MAX_DATA_ATTRIBUTES_BYTES}`,
      { hint: "write smaller items: split the data, or keep large content in files" },
    );
  }
  return { json, hash: `sha256:${sha256HexSync(json)}` };
}

/** Checks a draft before a store keeps it; returns its attributes' canonical JSON and hash. */
export function checkDraft(draft: DataDraft): { json: string; hash: string } {
  if (!draft.model || !draft.name) {
    throw new SwampError(ErrorCode.USAGE, "a data item needs a model and a name", {
      hint: "pass the model definition's name and the data name",
    });
  }
  for (const [k, v] of Object.entries(draft.tags)) {
    if (typeof v !== "string") {
      throw new SwampError(ErrorCode.USAGE, `data tag ${k} must be a string`);
    }
  }
  return hashAttributes(draft.attributes, `data item ${draft.model}/${draft.name}`);
}

/** A draft sealed as version `version`, with a fresh id, its hash and its time. */
export function sealDraft(draft: DataDraft, version: number, hash: string): DataItem {
  const { now, ...rest } = draft;
  const item: DataItem = {
    ...rest,
    id: crypto.randomUUID(),
    version,
    hash,
    attributes: structuredClone(draft.attributes),
    tags: { ...draft.tags },
    createTime: new Date(now),
  };
  if (item.leaseId === undefined) delete item.leaseId;
  return item;
}

/** Whether the newest version is this same write again (same hash, same writer): a retry. */
export function isRetriedWrite(
  newest: DataItem | undefined,
  draft: DataDraft,
  hash: string,
): boolean {
  return newest !== undefined && newest.hash === hash && newest.runId === draft.runId &&
    newest.stepId === draft.stepId && newest.attempt === draft.attempt;
}

/** A position in the listing order: model, then name, then version newest first. */
export interface DataKey {
  model: string;
  name: string;
  version: number;
}

const cmp = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/** The listing order: model, name ascending; version descending. */
export const dataOrder = (a: DataKey, b: DataKey): number =>
  cmp(a.model, b.model) || cmp(a.name, b.name) || b.version - a.version;

/** The cursor after `key`: opaque to callers. */
export const formatDataCursor = (key: DataKey): string =>
  btoa(JSON.stringify([key.model, key.name, key.version]));

/** The key a cursor names; a usage error for anything else. */
export function parseDataCursor(cursor: string | undefined): DataKey | undefined {
  if (!cursor) return undefined;
  try {
    const [model, name, version] = JSON.parse(atob(cursor));
    if (typeof model === "string" && typeof name === "string" && Number.isSafeInteger(version)) {
      return { model, name, version };
    }
  } catch { /* falls through */ }
  throw new SwampError(ErrorCode.USAGE, `\`${cursor}\` is not a data listing cursor`, {
    hint: "pass the nextCursor of a previous listing, unchanged",
  });
}

/** The page size a query asks for, checked. */
export function dataLimit(query: DataQuery): number {
  const limit = query.limit ?? DEFAULT_DATA_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DATA_LIMIT) {
    throw new SwampError(ErrorCode.USAGE, `limit ${limit} is out of range`, {
      hint: `pass a limit from 1 to ${MAX_DATA_LIMIT}`,
    });
  }
  return limit;
}

/** Whether an item passes the query's filters (model, spec, name, run, tag; not versions or paging). */
export function matchesData(item: DataItem, query: DataQuery): boolean {
  return (query.model === undefined || item.model === query.model) &&
    (query.spec === undefined || item.spec === query.spec) &&
    (query.name === undefined || item.name === query.name) &&
    (query.runId === undefined || item.runId === query.runId) &&
    (query.tag === undefined || item.tags[query.tag[0]] === query.tag[1]);
}

/**
 * One page from items already in listing order and past the cursor: the
 * first `limit`, and a cursor when more may follow.
 */
export function dataPage(
  items: DataItem[],
  limit: number,
): { items: DataItem[]; nextCursor?: string } {
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  return { items: page, nextCursor: formatDataCursor(page[page.length - 1]) };
}

/** A deep copy, so no caller holds a store's item. */
export const copyItem = (item: DataItem): DataItem => ({
  ...item,
  attributes: structuredClone(item.attributes),
  tags: { ...item.tags },
  createTime: new Date(item.createTime),
});
