// What a data writer killed between writing and linking leaves in data/.tmp
// is swept by the next process that writes data: files older than an hour
// go, a live writer's fresh file stays. A real file store on disk.
import { assertEquals } from "../../../test/helpers/assert.ts";
import { openFileStore } from "./mod.ts";

Deno.test("file store: stale temporary data files are swept, fresh ones kept", async () => {
  const root = await Deno.makeTempDir({ prefix: "swamp-data-tmp-" });
  try {
    const temp = `${root}/data/.tmp`;
    await Deno.mkdir(temp, { recursive: true });
    await Deno.writeTextFile(`${temp}/stale.json`, "{}");
    const old = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(`${temp}/stale.json`, old, old);
    await Deno.writeTextFile(`${temp}/fresh.json`, "{}");
    const store = await openFileStore(root, { fsync: false });
    try {
      await store.putData({
        model: "m",
        modelType: "t",
        name: "n",
        spec: "s",
        attributes: { v: 1 },
        tags: {},
        runId: "r",
        stepId: "s",
        attempt: 1,
        now: new Date(),
      });
    } finally {
      await store.close();
    }
    assertEquals([...Deno.readDirSync(temp)].map((e) => e.name), ["fresh.json"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
