// The worker's bundle cache on a real directory: a bundle is fetched once and
// then served from the cache; a damaged cache entry is fetched again; content
// that does not match the fingerprint, or names a path outside extensions/,
// is refused and nothing of it is kept.
import { assertEquals } from "../../test/helpers/assert.ts";
import { type BundleFile, bundleFingerprint, SwampError } from "../../runtime/mod.ts";
import { BundleCache } from "./bundles.ts";

const text = (s: string) => new TextEncoder().encode(s);
const files: BundleFile[] = [
  { path: "extensions/models/a.ts", content: text("export const model = {};\n") },
  { path: "extensions/models/lib/b.ts", content: text("export const b = 1;\n") },
];

async function refusal(what: Promise<unknown>): Promise<SwampError> {
  try {
    await what;
  } catch (error) {
    if (error instanceof SwampError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

Deno.test("bundle cache: fetched once, then cached; a damaged entry is fetched again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-bundles-" });
  try {
    const cache = new BundleCache(dir);
    const fingerprint = await bundleFingerprint(files);
    let fetches = 0;
    const fetch = () => {
      fetches++;
      return Promise.resolve(files);
    };
    const first = await cache.ensure(fingerprint, fetch);
    assertEquals(first.cached, false);
    assertEquals(
      await Deno.readTextFile(`${first.dir}/extensions/models/lib/b.ts`),
      "export const b = 1;\n",
    );
    assertEquals((await cache.ensure(fingerprint, fetch)).cached, true);
    assertEquals(fetches, 1);
    // Edited on the worker's disk: no longer the fingerprint's content.
    await Deno.writeTextFile(`${first.dir}/extensions/models/a.ts`, "globalThis.evil = 1;\n");
    const again = await cache.ensure(fingerprint, fetch);
    assertEquals([again.cached, fetches], [false, 2]);
    assertEquals(
      await Deno.readTextFile(`${again.dir}/extensions/models/a.ts`),
      "export const model = {};\n",
    );
    // An extra file is a different content too.
    await Deno.writeTextFile(`${again.dir}/extensions/models/extra.ts`, "");
    assertEquals((await cache.ensure(fingerprint, fetch)).cached, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundle cache: content that is not the fingerprint's, or a path outside extensions/, is refused and not kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-bundles-" });
  try {
    const cache = new BundleCache(dir);
    const fingerprint = await bundleFingerprint(files);
    const tampered = [files[0], { ...files[1], content: text("export const b = 2;\n") }];
    const wrong = await refusal(cache.ensure(fingerprint, () => Promise.resolve(tampered)));
    assertEquals(wrong.codeName, "bundle_mismatch");
    assertEquals(wrong.message.includes(fingerprint), true, wrong.message);
    for (const path of ["../x.ts", "extensions/../x.ts", "models/a.ts", "extensions//a.ts"]) {
      const escaping = [{ path, content: text("") }];
      const refused = await refusal(
        cache.ensure(await bundleFingerprint(escaping), () => Promise.resolve(escaping)),
      );
      assertEquals(refused.codeName, "bundle_mismatch", path);
    }
    const bad = await refusal(cache.ensure("sha256:nothex", () => Promise.resolve(files)));
    assertEquals(bad.codeName, "bundle_mismatch");
    // Nothing refused was written, not even in part.
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundle cache: only the most recently used bundles are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-bundles-" });
  try {
    const cache = new BundleCache(dir, 3);
    const bundle = (n: number): BundleFile[] => [
      { path: "extensions/models/a.ts", content: text(`export const n = ${n};\n`) },
    ];
    const prints: string[] = [];
    for (let n = 0; n < 5; n++) {
      const files = bundle(n);
      prints.push(await bundleFingerprint(files));
      await cache.ensure(prints[n], () => Promise.resolve(files));
      // Distinct use times, so the order of use is what the file system reports.
      const used = new Date(Date.UTC(2026, 0, 1, 0, n));
      await Deno.utime(`${dir}/${prints[n].slice(7)}`, used, used);
    }
    const kept = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(kept(), prints.slice(2).map((p) => p.slice(7)).sort());
    // Using the oldest kept one makes it the newest: the next new bundle removes another.
    assertEquals((await cache.ensure(prints[2], () => Promise.resolve(bundle(2)))).cached, true);
    await cache.ensure(await bundleFingerprint(bundle(9)), () => Promise.resolve(bundle(9)));
    assertEquals(kept().includes(prints[2].slice(7)), true);
    assertEquals(kept().includes(prints[3].slice(7)), false);
    assertEquals(kept().length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
