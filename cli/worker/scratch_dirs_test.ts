// A worker's step directories: each step gets a new empty one, the next is
// made ahead, and nothing is left behind, by this process or one that died.
import { ScratchDirs } from "./scratch_dirs.ts";
import { assert, assertEquals } from "../../test/helpers/mod.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("scratch dirs: a new empty directory per step, the next made ahead, none left behind", async () => {
  const root = await Deno.makeTempDir({ prefix: "swamp-scratch-" });
  try {
    const work = `${root}/work`;
    // What a worker killed with -9 left: a spare, and a step's directory (its record reaps it).
    await Deno.mkdir(`${work}/spare-left`, { recursive: true });
    await Deno.mkdir(`${work}/lease-running`);
    const dirs = new ScratchDirs(work);
    const first = dirs.take();
    assertEquals(names(work), ["lease-running", first.slice(work.length + 1)].sort());
    await Deno.writeTextFile(`${first}/left-by-the-step`, "x");
    await dirs.release(first);
    const [spare] = names(work).filter((n) => n.startsWith("spare-"));
    assert(spare !== undefined, names(work).join(" "));
    const second = dirs.take();
    assert(second !== first && second.includes("/lease-"), second);
    assertEquals(names(second), [], "a step starts in an empty directory");
    assertEquals(names(work).filter((n) => n.startsWith("spare-")), [], "the spare was taken");
    await dirs.release(second);
    dirs.close();
    assertEquals(names(work), ["lease-running"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("scratch dirs: steps that end together leave one spare between them", async () => {
  const root = await Deno.makeTempDir({ prefix: "swamp-scratch-" });
  try {
    const work = `${root}/work`;
    const dirs = new ScratchDirs(work);
    const taken = [dirs.take(), dirs.take(), dirs.take()];
    await Promise.all(taken.map((path) => dirs.release(path)));
    assertEquals(
      names(work).filter((n) => n.startsWith("spare-")).length,
      1,
      names(work).join(" "),
    );
    assertEquals(names(work).filter((n) => n.startsWith("lease-")), []);
    dirs.close();
    assertEquals(names(work), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
