// Builds the CEL library as ONE script string that QuickJS can evaluate.
//
// The library is bundled from the installed npm package with `deno bundle`
// (the Deno binary running us) into a cache file on first use. The cache lives
// under node_modules/.cache so third-party bundled code never lands in the
// repository, and its name carries the package version so an upgrade rebuilds.

import type { CelLibraryName } from "./sandbox_program.ts";

// The checkout, as a path: beside this file, or where the launcher says when
// this file runs from the CLI's bundle (which lives under node_modules/.cache).
const root = Deno.env.get("SWAMP_CHECKOUT")?.replace(/\/?$/, "/") ??
  decodeURIComponent(new URL("../", import.meta.url).pathname);
const nodeModules = `${root}node_modules/`;
const cacheDir = `${nodeModules}.cache/swamp-cel/`;

const packages: Record<CelLibraryName, string> = {
  bufbuild: "@bufbuild/cel",
  marcbachmann: "@marcbachmann/cel-js",
};

// Entry modules: each leaves the library's API in `globalThis.__celLibrary`,
// where the sandbox program picks it up (and deletes it).
const entries: Record<CelLibraryName, string> = {
  bufbuild: `import * as lib from "@bufbuild/cel";
import * as ext from "@bufbuild/cel/ext";
globalThis.__celLibrary = { ...lib, ext };
`,
  // UnsignedInt and Duration are not in the package's exports map, but the
  // sandbox needs them to recognise uint and duration results.
  marcbachmann: `import * as lib from "@marcbachmann/cel-js";
import { UnsignedInt, Duration } from "../../@marcbachmann/cel-js/lib/functions.js";
globalThis.__celLibrary = { ...lib, UnsignedInt, Duration };
`,
};

/** The installed version of a library's npm package. */
export async function libraryVersion(library: CelLibraryName): Promise<string> {
  const manifest = `${nodeModules}${packages[library]}/package.json`;
  return JSON.parse(await Deno.readTextFile(manifest)).version;
}

const built = new Map<string, Promise<string>>();

/** The bundled library source, built once per process and cached on disk. */
export function libraryBundle(library: CelLibraryName): Promise<string> {
  let p = built.get(library);
  if (!p) {
    p = loadOrBuild(library);
    built.set(library, p);
    p.catch(() => built.delete(library));
  }
  return p;
}

async function loadOrBuild(library: CelLibraryName): Promise<string> {
  const version = await libraryVersion(library);
  const name = `${packages[library].replace("/", "__")}@${version}.js`;
  const target = `${cacheDir}${name}`;
  try {
    return await Deno.readTextFile(target);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(cacheDir, { recursive: true });
  // Unique temporary names, then rename: concurrent builders (parallel test
  // files, two CLI processes) never read a half-written bundle.
  const unique = `${Deno.pid}-${crypto.randomUUID()}`;
  const entry = `${cacheDir}entry-${library}-${unique}.js`;
  const temp = `${cacheDir}${name}.${unique}.tmp`;
  await Deno.writeTextFile(entry, entries[library]);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--format",
        "iife",
        "--minify",
        "--node-modules-dir=manual",
        "--no-lock",
        "-o",
        temp,
        entry,
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `deno bundle of ${packages[library]} failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    await Deno.rename(temp, target);
  } finally {
    await Deno.remove(entry).catch(() => {});
    await Deno.remove(temp).catch(() => {});
  }
  return await Deno.readTextFile(target);
}
