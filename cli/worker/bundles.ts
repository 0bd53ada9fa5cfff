// The extension code a worker runs, cached in its cache dir by fingerprint:
// `<cache-dir>/bundles/<hex>/extensions/...`. A cached bundle is checked
// against its fingerprint before each use (a damaged one is fetched again);
// a fetched one that does not match the fingerprint the step names is
// refused, and nothing of it is kept.
import {
  type BundleFile,
  bundleFingerprint,
  ErrorCode,
  readBundle,
  safeBundlePath,
  SwampError,
} from "../../runtime/mod.ts";

/** Bundles kept in a worker's cache dir; the least recently used beyond it are removed. */
export const keptBundles = 16;

export class BundleCache {
  /** `dir` is `<cache-dir>/bundles`; it keeps the `keep` most recently used bundles. */
  constructor(readonly dir: string, readonly keep = keptBundles) {}

  /**
   * The directory holding the bundle `fingerprint` (its `extensions/` inside),
   * from the cache or else from `fetch`; `cached` says which.
   */
  async ensure(
    fingerprint: string,
    fetch: () => Promise<BundleFile[]>,
  ): Promise<{ dir: string; cached: boolean }> {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(fingerprint)?.[1];
    if (!hex) {
      throw new SwampError(
        ErrorCode.BUNDLE_MISMATCH,
        `\`${fingerprint}\` is not a bundle fingerprint`,
      );
    }
    const dir = `${this.dir}/${hex}`;
    if (await intact(dir, fingerprint)) {
      // Its modification time is when it was last used: what the pruning below goes by.
      const now = new Date();
      await Deno.utime(dir, now, now).catch(() => {});
      return { dir, cached: true };
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    const files = await fetch();
    const unsafe = files.find((f) => !safeBundlePath(f.path));
    if (unsafe) {
      throw new SwampError(
        ErrorCode.BUNDLE_MISMATCH,
        `the extension bundle names the path ${
          JSON.stringify(unsafe.path)
        }, outside extensions/: refused`,
      );
    }
    const got = await bundleFingerprint(files);
    if (got !== fingerprint) {
      throw new SwampError(
        ErrorCode.BUNDLE_MISMATCH,
        `the extension bundle received has fingerprint ${got}, not ${fingerprint} as the step ` +
          "names: refused, nothing of it was run or kept",
        { hint: "the orchestrator's extensions/ changed while the step was sent; run it again" },
      );
    }
    // Written whole beside the cache and renamed into place: a reader sees all of it or none.
    const temp = `${this.dir}/.${hex}.${crypto.randomUUID()}`;
    try {
      for (const file of files) {
        const path = `${temp}/${file.path}`;
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
        await Deno.writeFile(path, file.content, { mode: 0o600 });
      }
      await Deno.mkdir(`${temp}/extensions`, { recursive: true, mode: 0o700 });
      try {
        await Deno.rename(temp, dir);
      } catch (error) {
        // Another step of the same bundle put it in place first.
        if (!(await intact(dir, fingerprint))) throw error;
      }
    } finally {
      await Deno.remove(temp, { recursive: true }).catch(() => {});
    }
    await this.#prune(hex);
    return { dir, cached: false };
  }

  /** Removes the least recently used bundles beyond `keep` (never `current`). */
  async #prune(current: string): Promise<void> {
    const bundles: { name: string; used: number }[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.isDirectory || !/^[0-9a-f]{64}$/.test(entry.name) || entry.name === current) {
        continue;
      }
      const info = await Deno.stat(`${this.dir}/${entry.name}`).catch(() => undefined);
      if (info) bundles.push({ name: entry.name, used: info.mtime?.getTime() ?? 0 });
    }
    bundles.sort((a, b) => b.used - a.used);
    for (const old of bundles.slice(Math.max(0, this.keep - 1))) {
      await Deno.remove(`${this.dir}/${old.name}`, { recursive: true }).catch(() => {});
    }
  }
}

/** Whether `dir` holds exactly the files of `fingerprint` (a link in it is not what was written). */
async function intact(dir: string, fingerprint: string): Promise<boolean> {
  const read = await readBundle(dir).catch(() => undefined);
  return read !== undefined && read.others === 0 && read.fingerprint === fingerprint;
}
