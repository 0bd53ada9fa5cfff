// Data items: one row per version (runtime/ports/data.ts). A write takes a
// transaction-scoped advisory lock on its (model, name) before reading the
// newest version, so two processes writing one item, even its first version
// (no row to lock yet), take turns and get distinct versions.
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
import { type Db, num, type Row } from "./db.ts";

const columns = "model, name, version, id, model_type, spec, hash, attributes, tags, " +
  "run_id, step_id, attempt, lease_id, create_ms";

/** The advisory lock class of data writes (the two-int4 key space; migrations use the int8 one). */
const dataLockClass = 0x73646174; // "sdat"

function itemOf(row: Row): DataItem {
  const item: DataItem = {
    id: String(row.id),
    model: String(row.model),
    modelType: String(row.model_type),
    name: String(row.name),
    spec: String(row.spec),
    version: num(row.version),
    hash: String(row.hash),
    attributes: JSON.parse(String(row.attributes)),
    tags: row.tags as Record<string, string>,
    runId: String(row.run_id),
    stepId: String(row.step_id),
    attempt: num(row.attempt),
    createTime: new Date(num(row.create_ms)),
  };
  if (row.lease_id !== null && row.lease_id !== undefined) item.leaseId = String(row.lease_id);
  return item;
}

export class PgData {
  constructor(private readonly db: Db) {}

  async put(draft: DataDraft): Promise<DataItem> {
    const { json, hash } = checkDraft(draft);
    return await this.db.tx(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2) # hashtext($3))", [
        dataLockClass,
        draft.model,
        draft.name,
      ]);
      const row = (await tx.query(
        `SELECT ${columns} FROM data_items WHERE model = $1 AND name = $2 ` +
          "ORDER BY version DESC LIMIT 1",
        [draft.model, draft.name],
      )).rows[0];
      const newest = row ? itemOf(row) : undefined;
      if (isRetriedWrite(newest, draft, hash)) return newest!;
      const item = sealDraft(draft, (newest?.version ?? 0) + 1, hash);
      await tx.query(
        "UPDATE data_items SET newest = false WHERE model = $1 AND name = $2 AND newest",
        [item.model, item.name],
      );
      await tx.query(
        `INSERT INTO data_items (newest, ${columns}) ` +
          "VALUES (true, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        [
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
        ],
      );
      return item;
    });
  }

  async get(model: string, name: string, version?: number): Promise<DataItem | undefined> {
    const rows = version === undefined
      ? await this.db.rows(
        `SELECT ${columns} FROM data_items WHERE model = $1 AND name = $2 ` +
          "ORDER BY version DESC LIMIT 1",
        [model, name],
      )
      : await this.db.rows(
        `SELECT ${columns} FROM data_items WHERE model = $1 AND name = $2 AND version = $3`,
        [model, name, version],
      );
    return rows[0] ? itemOf(rows[0]) : undefined;
  }

  async versions(model: string, name: string): Promise<number[]> {
    const rows = await this.db.rows(
      "SELECT version FROM data_items WHERE model = $1 AND name = $2 ORDER BY version",
      [model, name],
    );
    return rows.map((row) => num(row.version));
  }

  /** One page, in listing order, filtered and paged in SQL. */
  async list(query: DataQuery): Promise<{ items: DataItem[]; nextCursor?: string }> {
    const limit = dataLimit(query);
    const after = parseDataCursor(query.cursor);
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (!query.allVersions) where.push("newest");
    for (
      const [column, value] of [
        ["model", query.model],
        ["name", query.name],
        ["spec", query.spec],
        ["run_id", query.runId],
      ] as const
    ) {
      if (value !== undefined) where.push(`${column} = ${param(value)}`);
    }
    if (query.tag) where.push(`tags ->> ${param(query.tag[0])} = ${param(query.tag[1])}`);
    if (after) {
      const [model, name, version] = [param(after.model), param(after.name), param(after.version)];
      where.push(
        `(model > ${model} OR (model = ${model} AND (name > ${name} OR ` +
          `(name = ${name} AND version < ${version}))))`,
      );
    }
    const text = `SELECT ${columns} FROM data_items` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY model, name, version DESC LIMIT ${param(limit + 1)}`;
    return dataPage((await this.db.rows(text, values)).map(itemOf), limit);
  }
}
