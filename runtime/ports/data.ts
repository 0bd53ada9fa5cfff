/**
 * Versioned data items: what a method call wrote, kept per (model, name) as
 * versions 1, 2, … Each version records its content hash and the run, step
 * and attempt that wrote it. Data outlives runs: `swamp run prune` never
 * deletes it. Every store passes test/contracts/store_contract_data.ts.
 */

/** The largest attributes a store accepts, measured as canonical JSON (UTF-8 bytes): 16 MiB. */
export const MAX_DATA_ATTRIBUTES_BYTES = 16 * 1024 * 1024;

/** One version of one data item. */
export interface DataItem {
  /** A random uuid, unique across every version of every item. */
  id: string;
  /** The model definition's (instance's) name, e.g. `web-server`; not its type. */
  model: string;
  /** The model's type, e.g. `aws/ec2` or `swamp/worker`. */
  modelType: string;
  /** The data name, unique per model. */
  name: string;
  /** The resource spec it was written under ("" if none). */
  spec: string;
  /** 1, 2, … per (model, name). */
  version: number;
  /** `sha256:<hex>` of the canonical JSON of `attributes`. */
  hash: string;
  /** A JSON value. */
  attributes: unknown;
  tags: Record<string, string>;
  runId: string;
  stepId: string;
  attempt: number;
  leaseId?: string;
  createTime: Date;
}

/** What a writer hands to `putData`; the store gives the id, version, hash and time. */
export type DataDraft = Omit<DataItem, "id" | "version" | "hash" | "createTime"> & { now: Date };

/** Which items a listing returns. Without `allVersions`, only the newest version of each (model, name). */
export interface DataQuery {
  model?: string;
  spec?: string;
  name?: string;
  runId?: string;
  /** Items carrying this tag key with this value. */
  tag?: [string, string];
  allVersions?: boolean;
  /** At most this many items per page (default 100). */
  limit?: number;
  /** The `nextCursor` of a previous page of the same query. */
  cursor?: string;
}

/**
 * Where data items live. Every method is a single atomic operation, safe when
 * several processes use the same store.
 */
export interface DataStore {
  /**
   * Stores the next version of (draft.model, draft.name), atomically: two
   * racing writers get distinct versions. When the newest version has the
   * same hash and the same writer (runId, stepId, attempt) it is returned
   * unchanged (a retried write). Throws SwampError DATA_TOO_LARGE when the
   * attributes exceed MAX_DATA_ATTRIBUTES_BYTES, USAGE when they are not JSON.
   */
  putData(draft: DataDraft): Promise<DataItem>;
  /** That version (default: the newest), or undefined. */
  getData(model: string, name: string, version?: number): Promise<DataItem | undefined>;
  /** Every version of (model, name), ascending; empty for an unknown item. */
  listDataVersions(model: string, name: string): Promise<number[]>;
  /**
   * Items matching the query, ordered by model, then name, then version
   * (newest first), a page at a time.
   */
  listData(query: DataQuery): Promise<{ items: DataItem[]; nextCursor?: string }>;
}
