// The on-disk cache of extension inspections stays bounded: the entries
// written last are kept, the rest removed (a real directory).
import { assertEquals } from "../../test/helpers/assert.ts";
import { pruneCache } from "./extensions.ts";

Deno.test("extension inspection cache: only the entries written last are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-ext-cache-" });
  try {
    for (let n = 0; n < 6; n++) {
      const path = `${dir}/h${n}.json`;
      await Deno.writeTextFile(path, "{}");
      const written = new Date(Date.UTC(2026, 0, 1, 0, n));
      await Deno.utime(path, written, written);
    }
    await Deno.writeTextFile(`${dir}/other.txt`, "not an inspection");
    await pruneCache(dir, 4);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(left, ["h2.json", "h3.json", "h4.json", "h5.json", "other.txt"]);
    await pruneCache(dir, 4);
    assertEquals([...Deno.readDirSync(dir)].length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
