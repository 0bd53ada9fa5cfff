// Data items in memory (runtime/ports/data.ts): every version of every
// (model, name), kept as copies so no caller holds a stored item.
import {
  checkDraft,
  copyItem,
  type DataDraft,
  type DataItem,
  dataLimit,
  dataOrder,
  dataPage,
  type DataQuery,
  isRetriedWrite,
  matchesData,
  parseDataCursor,
  sealDraft,
} from "../../../runtime/mod.ts";

const key = (model: string, name: string) => JSON.stringify([model, name]);

export class MemoryDataItems {
  /** Versions of each (model, name), oldest first (index = version - 1). */
  readonly #versions = new Map<string, DataItem[]>();

  put(draft: DataDraft): DataItem {
    const { hash } = checkDraft(draft);
    const versions = this.#versions.get(key(draft.model, draft.name)) ?? [];
    const newest = versions.at(-1);
    if (isRetriedWrite(newest, draft, hash)) return copyItem(newest!);
    const item = sealDraft(draft, versions.length + 1, hash);
    versions.push(copyItem(item));
    this.#versions.set(key(draft.model, draft.name), versions);
    return item;
  }

  get(model: string, name: string, version?: number): DataItem | undefined {
    const versions = this.#versions.get(key(model, name)) ?? [];
    const item = version === undefined ? versions.at(-1) : versions[version - 1];
    return item && copyItem(item);
  }

  versions(model: string, name: string): number[] {
    return (this.#versions.get(key(model, name)) ?? []).map((item) => item.version);
  }

  list(query: DataQuery): { items: DataItem[]; nextCursor?: string } {
    const limit = dataLimit(query);
    const after = parseDataCursor(query.cursor);
    const found: DataItem[] = [];
    for (const versions of this.#versions.values()) {
      const candidates = query.allVersions ? versions : versions.slice(-1);
      for (const item of candidates) {
        if (matchesData(item, query) && (!after || dataOrder(after, item) < 0)) found.push(item);
      }
    }
    found.sort(dataOrder);
    return dataPage(found.slice(0, limit + 1).map(copyItem), limit);
  }
}
