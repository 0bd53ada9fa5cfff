// listRuns: keyset paging on (create_ms, id), newest first. A query for
// several statuses runs once per status (each walks an index in order and
// stops after a page) and the results are merged, as the SQLite store does.
import { fromBinary } from "@bufbuild/protobuf";
import { RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  formatListCursor,
  type ListKey,
  type ListPage,
  type ListQuery,
  newerFirst,
  parseListCursor,
} from "../../../runtime/mod.ts";
import { bytes, type Db, num } from "./db.ts";

type Listed = ListKey & { summary: Uint8Array };

async function page(
  db: Db,
  workflow: string | undefined,
  status: number | undefined,
  after: ListKey | undefined,
  limit: number,
): Promise<Listed[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (workflow !== undefined) where.push(`workflow = ${param(workflow)}`);
  if (status !== undefined) where.push(`status = ${param(status)}`);
  if (after) where.push(`(create_ms, id) < (${param(after.createMs)}, ${param(after.id)})`);
  const text = "SELECT create_ms, id, summary FROM runs" +
    (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY create_ms DESC, id DESC LIMIT ${param(limit)}`;
  return (await db.rows(text, values)).map((row) => ({
    createMs: num(row.create_ms),
    id: String(row.id),
    summary: bytes(row.summary),
  }));
}

export async function listRuns(db: Db, query: ListQuery): Promise<ListPage> {
  const limit = Math.floor(query.limit);
  if (!(limit > 0)) return { runs: [], nextCursor: "" };
  const after = parseListCursor(query.cursor);
  const statuses = query.statuses?.length ? [...new Set(query.statuses)] : [undefined];
  // One row more than the page tells whether there is a next page.
  const rows = (await Promise.all(
    statuses.map((status) => page(db, query.workflow, status, after, limit + 1)),
  )).flat().sort(newerFirst);
  const chosen = rows.slice(0, limit);
  return {
    runs: chosen.map((row) => fromBinary(RunSummarySchema, row.summary)),
    nextCursor: rows.length > limit ? formatListCursor(chosen[chosen.length - 1]) : "",
  };
}
