// Extension model types as validation sees them: per module under
// extensions/models/, the type, version and JSON Schemas its exported `model`
// declares, read by an ExtensionInspector (a sandboxed import) and kept by
// content hash, in memory and in .swamp/cache/extensions/, so validating an
// unchanged repository imports nothing. The one entry point for anything
// that needs an extension's schemas (validation, and the method runner).
import type {
  ExtensionInspection,
  ExtensionInspector,
  ExtensionModelSchemas,
  ExtensionProblem,
} from "../ports/extension_schemas.ts";
import { fileSha256 } from "../repo/file_hash.ts";
import { listFiles } from "../repo/files.ts";
import { FileMemo } from "../repo/file_memo.ts";
import { sha256Hex } from "../text/hash.ts";

export { checkAgainstSchema, type SchemaIssue } from "./extension_values.ts";

/** Where extension modules live, relative to the repository root. */
export const extensionDir = "extensions/models";
/** Changes whenever what an inspection yields changes: older cache entries are not read. */
const inspectionVersion = "extension-schemas-2";
const memoryLimit = 512;

/** One extension module: its model's schemas, or why there are none. */
export interface ExtensionModule {
  /** Path relative to the repository root. */
  file: string;
  /** sha256 of the module's text with the inspection versions: the cache key. */
  hash: string;
  model?: ExtensionModelSchemas;
  problem?: ExtensionProblem;
}

/** Per content hash: what an inspection found (transient failures are not kept). */
const remembered = new Map<string, ExtensionInspection>();

/**
 * Every module under extensions/models/ of the repository at `root`, with
 * the schemas its `model` declares. A module is imported (through
 * `inspector`) only when neither this process nor the repository's cache
 * has seen its text before. The result for an unchanged module is the same
 * object each time.
 */
export async function loadExtensionModels(
  root: string,
  inspector: ExtensionInspector,
): Promise<ExtensionModule[]> {
  const files = await listFiles(root, extensionDir, [".ts", ".js", ".mts", ".mjs"]);
  return await Promise.all(files.map((file) => loadOne(root, file, inspector)));
}

const modules = new Map<string, ExtensionModule>();
const contentHashes = new FileMemo<string>();

async function loadOne(
  root: string,
  file: string,
  inspector: ExtensionInspector,
): Promise<ExtensionModule> {
  let hash: string;
  try {
    // Read and hashed again only when the file changed (its stat signature): every submission
    // and every run of a server loads the catalog.
    const text = await contentHashes.get(`${root}/${file}`, () => fileSha256(`${root}/${file}`));
    hash = await sha256Hex(`${inspectionVersion}\n${inspector.version}\n${text}`);
  } catch (error) {
    return {
      file,
      hash: "",
      problem: {
        rule: "unreadable",
        message: `the extension module cannot be read: ${(error as Error).message}`,
        hint: "fix the file's permissions",
        severity: "error",
      },
    };
  }
  const key = `${root}/${file}|${hash}`;
  const known = modules.get(key);
  if (known) return known;
  const inspection = await inspect(root, file, hash, inspector);
  const module: ExtensionModule = { file, hash, ...inspection };
  if (!inspection.problem?.transient) {
    modules.set(key, module);
    if (modules.size > memoryLimit) modules.delete(modules.keys().next().value!);
  }
  return module;
}

async function inspect(
  root: string,
  file: string,
  hash: string,
  inspector: ExtensionInspector,
): Promise<ExtensionInspection> {
  const inMemory = remembered.get(hash);
  if (inMemory) return inMemory;
  const cacheFile = `${root}/.swamp/cache/extensions/${hash}.json`;
  const cached = await readCache(cacheFile);
  if (cached) return cached;
  const fresh = await inspector.inspect(`${root}/${file}`, `${root}/${extensionDir}`);
  if (fresh.problem?.transient) return fresh;
  remembered.set(hash, fresh);
  if (remembered.size > memoryLimit) remembered.delete(remembered.keys().next().value!);
  await writeCache(cacheFile, fresh);
  return fresh;
}

async function readCache(path: string): Promise<ExtensionInspection | undefined> {
  try {
    const data = JSON.parse(await Deno.readTextFile(path));
    if (data && typeof data === "object" && (data.model || data.problem)) return data;
  } catch {
    // absent or damaged: inspected again
  }
  return undefined;
}

/** Inspections kept on disk; the oldest written beyond it are removed as new ones are added. */
export const keptInspections = 256;

async function writeCache(path: string, value: ExtensionInspection): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  try {
    await Deno.mkdir(dir, { recursive: true });
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(value));
    await Deno.rename(temp, path);
    await pruneCache(dir, keptInspections);
  } catch {
    // A cache that cannot be written only costs an import next time.
  }
}

/**
 * Keeps the `keep` inspections written last: every edit of a module adds
 * one, and a removed one that is still wanted only costs an import.
 */
export async function pruneCache(dir: string, keep: number): Promise<void> {
  const entries: { path: string; written: number }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const path = `${dir}/${entry.name}`;
    const info = await Deno.stat(path).catch(() => undefined);
    if (info) entries.push({ path, written: info.mtime?.getTime() ?? 0 });
  }
  if (entries.length <= keep) return;
  entries.sort((a, b) => b.written - a.written);
  for (const old of entries.slice(keep)) await Deno.remove(old.path).catch(() => {});
}
