// A repository's extension code as a worker receives it: every regular file
// under extensions/, addressed by a fingerprint of their paths and bytes. The
// orchestrator collects it for a placed extension step; the worker checks
// what it receives (and what it cached) against the fingerprint, so it runs
// exactly the code the orchestrator meant, or nothing.
import { ErrorCode, SwampError } from "../errors/mod.ts";

export interface BundleFile {
  /** Relative to the repository root, `/`-separated, under `extensions/`. */
  path: string;
  content: Uint8Array;
}

export interface ExtensionBundle {
  /** `sha256:<hex>`, see bundleFingerprint. */
  fingerprint: string;
  files: BundleFile[];
}

/** The largest bundle a placed step may carry. */
export const maxBundleBytes = 32 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * SHA-256 of the files in path order, each as its path, a NUL, its length in
 * decimal, a NUL and its bytes: no two different sets of files share it.
 */
export async function bundleFingerprint(files: readonly BundleFile[]): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const file of sorted) {
    const head = encoder.encode(`${file.path}\0${file.content.length}\0`);
    parts.push(head, file.content);
    size += head.length + file.content.length;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A bundle path a worker may write: relative, under extensions/, no `..`, no empty part. */
export function safeBundlePath(path: string): boolean {
  const parts = path.split("/");
  return parts[0] === "extensions" && parts.length > 1 &&
    parts.every((p) =>
      p !== "" && p !== "." && p !== ".." && !p.includes("\0") && !p.includes("\\")
    );
}

/**
 * Every regular file under `<root>/extensions`, by its path from `root`
 * (symbolic links are not followed); `others` counts the entries that are
 * neither files nor folders.
 */
export async function readBundle(root: string): Promise<ExtensionBundle & { others: number }> {
  const files: BundleFile[] = [];
  let total = 0;
  let others = 0;
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(`${root}/${relative}`)) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (!entry.isFile) others++;
      else {
        const content = await Deno.readFile(`${root}/${path}`);
        total += content.length;
        if (total > maxBundleBytes) {
          throw new SwampError(
            ErrorCode.DATA_TOO_LARGE,
            `${root}/extensions holds more than ${maxBundleBytes >> 20} MiB: ` +
              "too much to send to a worker with each placed extension step",
            { hint: "keep only extension code under extensions/; data belongs in the data store" },
          );
        }
        files.push({ path, content });
      }
    }
  };
  await walk("extensions");
  return { fingerprint: await bundleFingerprint(files), files, others };
}

/** The bundle of a repository's extensions/ (see readBundle). */
export async function collectBundle(repoRoot: string): Promise<ExtensionBundle> {
  const { fingerprint, files } = await readBundle(repoRoot);
  return { fingerprint, files };
}

/**
 * Collects the bundle again only when a file under extensions/ changed (by
 * path, size and modification time): a placed extension step does not read
 * every file of the directory each time.
 */
export class BundleMemo {
  #signature = "";
  #bundle?: Promise<ExtensionBundle>;

  async get(repoRoot: string): Promise<ExtensionBundle> {
    const signature = await treeSignature(`${repoRoot}/extensions`);
    if (signature !== this.#signature || !this.#bundle) {
      this.#signature = signature;
      this.#bundle = collectBundle(repoRoot);
      this.#bundle.catch(() => (this.#signature = ""));
    }
    return await this.#bundle;
  }
}

async function treeSignature(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile) {
        const info = await Deno.lstat(full);
        parts.push(`${full}\0${info.size}\0${info.mtime?.getTime() ?? 0}`);
      }
    }
  };
  await walk(dir);
  return parts.sort().join("\n");
}
