/**
 * Reads the real module graph with `deno info --json` and turns it into the plain
 * {@link ModuleGraph} that rules.ts checks. `graphFromDenoInfo` is pure (and unit tested);
 * `loadModuleGraph` spawns deno.
 */
import { countLines, type Edge, type ModuleGraph, npmPackageName } from "./rules.ts";

/** The parts of `deno info --json` output this module reads. */
export interface DenoInfo {
  roots: string[];
  modules: DenoInfoModule[];
  redirects?: Record<string, string>;
}

export interface DenoInfoModule {
  specifier: string;
  kind?: string;
  local?: string;
  error?: string;
  dependencies?: DenoInfoDependency[];
}

export interface DenoInfoDependency {
  specifier: string;
  code?: DenoInfoResolution;
  type?: DenoInfoResolution;
  isDynamic?: boolean;
}

export interface DenoInfoResolution {
  specifier?: string;
  error?: string;
}

export interface LoadedGraph {
  graph: ModuleGraph;
  /** Modules deno could not load or parse (their imports are unknown). */
  errors: string[];
}

/** `file:///repo/` with a trailing slash. */
export function rootUrl(rootDir: string): string {
  const href = new URL(`file://${rootDir.replace(/\\/g, "/")}`).href;
  return href.endsWith("/") ? href : href + "/";
}

/**
 * Normalise a resolved specifier: project files become repo-relative paths; anything under a
 * node_modules/ folder or with an `npm:` scheme becomes `npm:<package>`; `node:` stays as is;
 * everything else (files outside the repo, jsr:, https:) is returned unchanged.
 */
export function normalizeTarget(resolved: string, root: string): string {
  if (resolved.startsWith("npm:")) return `npm:${npmPackageName(resolved)}`;
  if (resolved.startsWith("file:")) {
    const nm = resolved.lastIndexOf("/node_modules/");
    if (nm >= 0) return `npm:${npmPackageName(resolved.slice(nm + "/node_modules/".length))}`;
    if (resolved.startsWith(root)) return decodeURIComponent(resolved.slice(root.length));
  }
  return resolved;
}

/** Best-effort target for an import deno could not resolve, from the specifier as written. */
export function unresolvedTarget(specifier: string, referrer: string, root: string): string {
  if (/^\.{0,2}\//.test(specifier)) {
    try {
      return normalizeTarget(new URL(specifier, referrer).href, root);
    } catch {
      return specifier;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return normalizeTarget(specifier, root);
  return `npm:${npmPackageName(specifier)}`; // a bare specifier names an npm package
}

/** Turn `deno info --json` output into a project module graph. */
export function graphFromDenoInfo(info: DenoInfo, rootDir: string): LoadedGraph {
  const root = rootUrl(rootDir);
  const graph: ModuleGraph = new Map();
  const errors: string[] = [];
  for (const mod of info.modules) {
    const from = normalizeTarget(mod.specifier, root);
    const isProject = mod.specifier.startsWith(root) && !from.startsWith("npm:");
    if (mod.error) {
      // Only the project's own files matter: their imports are what the rules check.
      if (isProject) errors.push(`${from}: ${mod.error}`);
      continue;
    }
    if (!isProject) continue;
    const byTarget = new Map<string, Edge>();
    for (const dep of mod.dependencies ?? []) {
      const sides: [DenoInfoResolution | undefined, boolean][] = [[dep.code, false], [
        dep.type,
        true,
      ]];
      for (const [res, typeSide] of sides) {
        if (!res) continue;
        const to = res.specifier
          ? normalizeTarget(info.redirects?.[res.specifier] ?? res.specifier, root)
          : unresolvedTarget(dep.specifier, mod.specifier, root);
        const prev = byTarget.get(to);
        if (prev) {
          prev.typeOnly = prev.typeOnly && typeSide;
          prev.dynamic = prev.dynamic && !!dep.isDynamic;
        } else {
          byTarget.set(to, {
            to,
            specifier: dep.specifier,
            typeOnly: typeSide,
            dynamic: !!dep.isDynamic,
          });
        }
      }
    }
    graph.set(from, [...byTarget.values()]);
  }
  return { graph, errors };
}

/** Every `.ts` file under the given top-level folders (skipping node_modules and dot-folders). */
export async function listTsFiles(rootDir: string, folders: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const folder of folders) await walk(rootDir, folder, out);
  return out.sort();
}

async function walk(rootDir: string, rel: string, out: string[]): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(`${rootDir}/${rel || "."}`)) entries.push(entry);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const entry of entries) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      await walk(rootDir, path, out);
    } else if (entry.isFile && /\.tsx?$/.test(entry.name)) {
      out.push(path);
    }
  }
}

/** Line counts of every `.ts` file in the repository (node_modules and dot-folders skipped). */
export async function lineCounts(rootDir: string): Promise<Map<string, number>> {
  const files = await listTsFiles(rootDir, [""]);
  const counts = new Map<string, number>();
  await Promise.all(files.map(async (f) => {
    counts.set(f, countLines(await Deno.readTextFile(`${rootDir}/${f}`)));
  }));
  return counts;
}

/**
 * Run `deno info --json` once over a temporary entry module that imports every given file
 * (deno info accepts a single root), and convert the result.
 */
export async function loadModuleGraph(
  rootDir: string,
  files: readonly string[],
  timeoutMs = 50_000,
): Promise<LoadedGraph> {
  const root = rootUrl(rootDir);
  const tmp = await Deno.makeTempDir({ prefix: "swamp-fitness-" });
  try {
    const entry = `${tmp}/entry.ts`;
    const body = files.map((f) => `import ${JSON.stringify(new URL(f, root).href)};`).join("\n");
    await Deno.writeTextFile(entry, body + "\n");
    const args = ["info", "--json", "--no-lock", "--no-remote"];
    try {
      await Deno.stat(`${rootDir}/deno.json`);
      args.push("--config", `${rootDir}/deno.json`);
    } catch { /* no config: let deno discover */ }
    args.push(entry);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: rootDir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const dec = new TextDecoder();
    if (code !== 0) {
      throw new Error(`deno ${args.join(" ")} failed (exit ${code}):\n${dec.decode(stderr)}`);
    }
    const info = JSON.parse(dec.decode(stdout)) as DenoInfo;
    return graphFromDenoInfo(info, rootDir);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
