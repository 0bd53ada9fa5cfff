/// <reference path="./node_sqlite.d.ts" />
// listRuns for the SQLite store: keyset paging on (create_ms, id), newest
// first. A query for several statuses runs once per status (each one walks
// an index in order and stops after a page) and the results are merged, so
// SQLite never has to sort every matching run.
import type { DatabaseSync, Row, SQLValue, StatementSync } from "node:sqlite";
import { fromBinary } from "@bufbuild/protobuf";
import { type RunSummary, RunSummarySchema } from "../../../proto/gen/swamp/v1/run_pb.ts";
import {
  formatListCursor as formatCursor,
  type ListKey,
  type ListPage,
  type ListQuery,
  newerFirst,
  parseListCursor as parseCursor,
} from "../../../runtime/mod.ts";

type Key = ListKey;

export class RunLister {
  private readonly statements = new Map<string, StatementSync>();

  constructor(private readonly db: DatabaseSync) {}

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** One page of one status (or of every status when `status` is undefined). */
  private page(
    workflow: string | undefined,
    status: number | undefined,
    after: Key | undefined,
    limit: number,
  ): (Key & { summary: Uint8Array })[] {
    const where: string[] = [];
    const params: SQLValue[] = [];
    if (workflow !== undefined) {
      where.push("workflow = ?");
      params.push(workflow);
    }
    if (status !== undefined) {
      where.push("status = ?");
      params.push(status);
    }
    if (after) {
      where.push("(create_ms, id) < (?, ?)");
      params.push(after.createMs, after.id);
    }
    const sql = `SELECT create_ms, id, summary FROM runs` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY create_ms DESC, id DESC LIMIT ?`;
    return this.statement(sql).all(...params, limit).map((row: Row) => ({
      createMs: Number(row.create_ms),
      id: String(row.id),
      summary: row.summary as Uint8Array,
    }));
  }

  list(query: ListQuery): ListPage {
    const limit = Math.floor(query.limit);
    if (!(limit > 0)) return { runs: [], nextCursor: "" };
    const after = parseCursor(query.cursor);
    const statuses = query.statuses?.length ? [...new Set(query.statuses)] : [undefined];
    // One row more than the page tells whether there is a next page.
    const rows = statuses
      .flatMap((status) => this.page(query.workflow, status, after, limit + 1))
      .sort(newerFirst);
    const page = rows.slice(0, limit);
    const runs: RunSummary[] = page.map((row) => fromBinary(RunSummarySchema, row.summary));
    return {
      runs,
      nextCursor: rows.length > limit ? formatCursor(page[page.length - 1]) : "",
    };
  }
}
