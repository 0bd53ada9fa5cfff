import { assertEquals } from "../test/helpers/mod.ts";
import { moduleUrl } from "./executor_modules.ts";

Deno.test("moduleUrl names the file it was given, whatever its path holds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-modules-" });
  try {
    // Characters a URL would read as a query, a fragment, an escape or a separator, or drop.
    const awkward = ["a b", "c#d", "e?f", "g%41h", "i%2Fj", "k\\l", "m\tn", "o;p[q]{r}", "ü"];
    for (const [i, name] of awkward.entries()) {
      await Deno.mkdir(`${dir}/${name}`);
      await Deno.writeTextFile(`${dir}/${name}/mod.ts`, `export const which = ${i};`);
      const url = moduleUrl(`${dir}/${name}/mod.ts`);
      const module = await import(url);
      assertEquals(module.which, i, `${JSON.stringify(name)} imported as ${url}`);
      assertEquals(decodeURIComponent(new URL(url).pathname), `${dir}/${name}/mod.ts`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("moduleUrl resolves a relative path against the working directory, dots included", () => {
  const cwd = Deno.cwd();
  assertEquals(moduleUrl("x/./y/../z.ts"), new URL(`file://${cwd}/x/z.ts`).href);
  assertEquals(moduleUrl("/abs/../abs/m.ts"), "file:///abs/m.ts");
});
