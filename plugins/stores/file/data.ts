// Data items as files: data/<model>/<name>/<version>.json, one file per
// version, never changed once there (runtime/ports/data.ts). Model and name
// are URI-encoded into directory names (long ones shortened with a hash, see
// encodedFileName). A version is written whole into data/.tmp first, then
// hard-linked into place: the link fails if that version exists, so two
// processes racing for the next version get distinct ones without a lock,
// and a crash leaves at most a stray temporary file, never a partial version.
import {
  checkDraft,
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
import { promised, readTextIfExists, removeIfExists, syncDir, writeNewFile } from "./fsio.ts";
import { encodedFileName } from "./paths.ts";

interface ItemJson extends Omit<DataItem, "createTime"> {
  createMs: number;
}

const encode = (item: DataItem): string => {
  const { createTime, ...rest } = item;
  return JSON.stringify({ ...rest, createMs: createTime.getTime() }) + "\n";
};

function decode(text: string): DataItem {
  const { createMs, ...rest } = JSON.parse(text) as ItemJson;
  return { ...rest, createTime: new Date(createMs) };
}

const dirName = (name: string) => encodedFileName(name).slice(0, -".json".length);
const versionFile = /^([1-9][0-9]*)\.json$/;

/** Entries of a directory, or none when it does not exist. */
function entries(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

export class DataFiles {
  private readonly root: string;
  private readonly temp: string;
  private madeTemp = false;

  constructor(stateDir: string, private readonly sync: boolean) {
    this.root = `${stateDir}/data`;
    this.temp = `${stateDir}/data/.tmp`;
  }

  private itemDir(model: string, name: string): string {
    return `${this.root}/${dirName(model)}/${dirName(name)}`;
  }

  private versionsIn(dir: string): number[] {
    return entries(dir).flatMap((e) => {
      const m = versionFile.exec(e.name);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);
  }

  /** That version, checked to be of that item (a shortened long name could be another's). */
  private read(model: string, name: string, version: number): DataItem | undefined {
    const text = readTextIfExists(`${this.itemDir(model, name)}/${version}.json`);
    const item = text === undefined ? undefined : decode(text);
    return item?.model === model && item.name === name ? item : undefined;
  }

  put(draft: DataDraft): Promise<DataItem> {
    return promised(() => this.putNow(draft));
  }

  /**
   * Removes what writers killed between writing and linking left in data/.tmp:
   * files older than an hour (a live writer's file is moments old).
   */
  private sweepTemp(): void {
    const before = Date.now() - 3600_000;
    try {
      for (const entry of Deno.readDirSync(this.temp)) {
        const path = `${this.temp}/${entry.name}`;
        const written = Deno.lstatSync(path).mtime?.getTime() ?? Date.now();
        if (entry.isFile && written < before) removeIfExists(path);
      }
    } catch {
      // a stray file is harmless; the next process sweeps again
    }
  }

  private putNow(draft: DataDraft): DataItem {
    const { hash } = checkDraft(draft);
    const dir = this.itemDir(draft.model, draft.name);
    if (!this.madeTemp) {
      Deno.mkdirSync(this.temp, { recursive: true });
      this.madeTemp = true;
      this.sweepTemp();
    }
    Deno.mkdirSync(dir, { recursive: true });
    for (;;) {
      const newestVersion = this.versionsIn(dir).at(-1) ?? 0;
      const newest = newestVersion ? this.read(draft.model, draft.name, newestVersion) : undefined;
      if (isRetriedWrite(newest, draft, hash)) return newest!;
      const item = sealDraft(draft, newestVersion + 1, hash);
      const temp = `${this.temp}/${item.id}.json`;
      writeNewFile(temp, encode(item), this.sync);
      try {
        Deno.linkSync(temp, `${dir}/${item.version}.json`);
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue; // another writer took it
        throw error;
      } finally {
        removeIfExists(temp);
      }
      if (this.sync) syncDir(dir);
      return item;
    }
  }

  get(model: string, name: string, version?: number): Promise<DataItem | undefined> {
    return promised(() => {
      const v = version ?? this.versionsIn(this.itemDir(model, name)).at(-1);
      return v === undefined ? undefined : this.read(model, name, v);
    });
  }

  versions(model: string, name: string): Promise<number[]> {
    return promised(() => {
      const versions = this.versionsIn(this.itemDir(model, name));
      const newest = versions.at(-1);
      return newest !== undefined && this.read(model, name, newest) ? versions : [];
    });
  }

  list(query: DataQuery): Promise<{ items: DataItem[]; nextCursor?: string }> {
    return promised(() => this.listNow(query));
  }

  /**
   * Walks models, then names, in listing order, reading only what the page
   * needs when the query filters by model and name at most; other filters
   * read each candidate's newest version (or every version) to check it.
   */
  private listNow(query: DataQuery): { items: DataItem[]; nextCursor?: string } {
    const limit = dataLimit(query);
    const after = parseDataCursor(query.cursor);
    const found: DataItem[] = [];
    const models = query.model !== undefined
      ? [{ real: query.model, dir: `${this.root}/${dirName(query.model)}` }]
      : this.named(this.root, (dir) => this.anyItem(dir, "model"));
    for (const model of models) {
      if (after && model.real < after.model) continue;
      const names = query.name !== undefined
        ? [{ real: query.name, dir: `${model.dir}/${dirName(query.name)}` }]
        : this.named(model.dir, (dir) => this.anyItem(dir, "name"));
      for (const name of names) {
        if (after && model.real === after.model && name.real < after.name) continue;
        const versions = this.versionsIn(name.dir).reverse();
        for (const version of query.allVersions ? versions : versions.slice(0, 1)) {
          const key = { model: model.real, name: name.real, version };
          if (after && dataOrder(after, key) >= 0) continue;
          const item = this.read(model.real, name.real, version);
          if (item && matchesData(item, query)) found.push(item);
          if (found.length > limit) return dataPage(found, limit);
        }
      }
    }
    return dataPage(found, limit);
  }

  /** The subdirectories of `dir` with the names they stand for, in name order. */
  private named(dir: string, realOf: (sub: string) => string | undefined) {
    const out: { real: string; dir: string }[] = [];
    for (const entry of entries(dir)) {
      if (!entry.isDirectory || entry.name.startsWith(".")) continue;
      const sub = `${dir}/${entry.name}`;
      // Encoded names never hold "=": one that does was shortened; its items know the whole name.
      const real = entry.name.includes("=") ? realOf(sub) : decodeURIComponent(entry.name);
      if (real !== undefined) out.push({ real, dir: sub });
    }
    return out.sort((a, b) => a.real < b.real ? -1 : a.real > b.real ? 1 : 0);
  }

  /** The model or name recorded in some item under `dir` (a model's or an item's directory). */
  private anyItem(dir: string, field: "model" | "name"): string | undefined {
    for (const entry of entries(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && field === "model") {
        const found = this.anyItem(path, field);
        if (found !== undefined) return found;
      } else if (versionFile.test(entry.name)) {
        const text = readTextIfExists(path);
        if (text !== undefined) return decode(text)[field];
      }
    }
    return undefined;
  }
}
