/// <reference path="./node_sqlite.d.ts" />
// Data items in the data_items table (schema.ts): one row per version. The
// store runs each write in its own BEGIN IMMEDIATE transaction, so two
// processes writing one item read different newest versions in turn and get
// distinct ones.
import type { DatabaseSync, Row, StatementSync } from "node:sqlite";
import {
  checkDraft,
  type DataDraft,
  type DataItem,
  dataLimit,
  dataPage,
  type DataQuery,
  isRetriedWrite,
  parseDataCursor,
  sealDraft,
} from "../../../runtime/mod.ts";

const columns = "model, name, version, newest, id, model_type, spec, hash, attributes, tags, " +
  "run_id, step_id, attempt, lease_id, create_ms";

const sql = {
  newest: `SELECT ${columns} FROM data_items WHERE model = ? AND name = ? ` +
    `ORDER BY version DESC LIMIT 1`,
  version: `SELECT ${columns} FROM data_items WHERE model = ? AND name = ? AND version = ?`,
  versions: `SELECT version FROM data_items WHERE model = ? AND name = ? ORDER BY version`,
  retire: `UPDATE data_items SET newest = 0 WHERE model = ? AND name = ? AND newest = 1`,
  insert:
    `INSERT INTO data_items (${columns}) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
};

function itemOf(row: Row): DataItem {
  const item: DataItem = {
    id: String(row.id),
    model: String(row.model),
    modelType: String(row.model_type),
    name: String(row.name),
    spec: String(row.spec),
    version: Number(row.version),
    hash: String(row.hash),
    attributes: JSON.parse(String(row.attributes)),
    tags: JSON.parse(String(row.tags)),
    runId: String(row.run_id),
    stepId: String(row.step_id),
    attempt: Number(row.attempt),
    createTime: new Date(Number(row.create_ms)),
  };
  if (row.lease_id !== null && row.lease_id !== undefined) item.leaseId = String(row.lease_id);
  return item;
}

export class SqliteData {
  private readonly statements: Record<keyof typeof sql, StatementSync>;

  constructor(private readonly db: DatabaseSync) {
    this.statements = Object.fromEntries(
      Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]),
    ) as Record<keyof typeof sql, StatementSync>;
  }

  /** Inside a write transaction. */
  put(draft: DataDraft): DataItem {
    const { json, hash } = checkDraft(draft);
    const row = this.statements.newest.get(draft.model, draft.name);
    const newest = row ? itemOf(row) : undefined;
    if (isRetriedWrite(newest, draft, hash)) return newest!;
    const item = sealDraft(draft, (newest?.version ?? 0) + 1, hash);
    this.statements.retire.run(item.model, item.name);
    this.statements.insert.run(
      item.model,
      item.name,
      item.version,
      item.id,
      item.modelType,
      item.spec,
      hash,
      json,
      JSON.stringify(item.tags),
      item.runId,
      item.stepId,
      item.attempt,
      item.leaseId ?? null,
      item.createTime.getTime(),
    );
    return item;
  }

  get(model: string, name: string, version?: number): DataItem | undefined {
    const row = version === undefined
      ? this.statements.newest.get(model, name)
      : this.statements.version.get(model, name, version);
    return row ? itemOf(row) : undefined;
  }

  versions(model: string, name: string): number[] {
    return this.statements.versions.all(model, name).map((row) => Number(row.version));
  }

  /** One page, in listing order, filtered and paged in SQL. */
  list(query: DataQuery): { items: DataItem[]; nextCursor?: string } {
    const limit = dataLimit(query);
    const after = parseDataCursor(query.cursor);
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (!query.allVersions) where.push("newest = 1");
    for (
      const [column, value] of [
        ["model", query.model],
        ["name", query.name],
        ["spec", query.spec],
        ["run_id", query.runId],
      ] as const
    ) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        args.push(value);
      }
    }
    if (query.tag) {
      where.push("EXISTS (SELECT 1 FROM json_each(data_items.tags) WHERE key = ? AND value = ?)");
      args.push(query.tag[0], query.tag[1]);
    }
    if (after) {
      where.push("(model > ? OR (model = ? AND (name > ? OR (name = ? AND version < ?))))");
      args.push(after.model, after.model, after.name, after.name, after.version);
    }
    const text = `SELECT ${columns} FROM data_items` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY model, name, version DESC LIMIT ?`;
    const rows = this.db.prepare(text).all(...args, limit + 1);
    return dataPage(rows.map(itemOf), limit);
  }
}
