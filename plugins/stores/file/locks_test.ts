import { assertEquals } from "../../../test/helpers/mod.ts";
import { LockFiles } from "./locks.ts";
import { Layout } from "./paths.ts";

async function withLocks(fn: (locks: LockFiles, layout: Layout) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "swamp-locks-" });
  try {
    const layout = new Layout(root);
    await Deno.mkdir(layout.lockTemp, { recursive: true });
    await fn(new LockFiles(layout, true), layout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a lock is a symbolic link naming its run; a hashed name is a flushed file", async () => {
  await withLocks(async (locks, layout) => {
    const long = "deploy-" + "x".repeat(300);
    for (const name of ["model:command/shell/a b", long, "with~tilde"]) {
      assertEquals(await locks.tryAcquire(name, "run-1"), { acquired: true });
      assertEquals(await locks.tryAcquire(name, "run-1"), { acquired: true }, "its own again");
      const refused = await locks.tryAcquire(name, "run-2");
      assertEquals(refused.acquired, false);
      if (!refused.acquired) {
        assertEquals([refused.holder.name, refused.holder.runId], [name, "run-1"]);
      }
    }
    const kinds = [];
    for await (const entry of Deno.readDir(layout.locks)) {
      if (entry.name !== ".tmp") kinds.push(entry.isSymlink ? "link" : "file");
    }
    assertEquals(kinds.sort(), ["file", "file", "link"]);
    assertEquals((await locks.list()).map((h) => [h.name, h.runId]), [
      ["deploy-" + "x".repeat(300), "run-1"],
      ["model:command/shell/a b", "run-1"],
      ["with~tilde", "run-1"],
    ]);
    assertEquals(await locks.release("with~tilde", "run-2"), false, "not its holder");
    assertEquals((await locks.releaseAll("run-1")).length, 3);
    assertEquals(await locks.list(), []);
    assertEquals([...Deno.readDirSync(layout.lockTemp)], [], "no temporary file is left");
  });
});

Deno.test("a lock written as a file by an earlier version is read, refused to others and released", async () => {
  await withLocks(async (locks, layout) => {
    const holder = { name: "lock:deploy", runId: "old-run", since: 1 };
    await Deno.writeTextFile(
      `${layout.locks}/${encodeURIComponent("lock:deploy")}.json`,
      JSON.stringify(holder) + "\n",
    );
    assertEquals(await locks.tryAcquire("lock:deploy", "new-run"), { acquired: false, holder });
    assertEquals(await locks.list(), [holder]);
    assertEquals(await locks.release("lock:deploy", "old-run"), true);
    assertEquals(await locks.tryAcquire("lock:deploy", "new-run"), { acquired: true });
  });
});
