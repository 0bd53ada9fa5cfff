/// <reference path="../../plugins/stores/sqlite/node_sqlite.d.ts" />
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { within } from "../../test/helpers/runs.ts";
import { startCheckpointThread } from "./checkpoint_thread.ts";

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-checkpoint-thread-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("checkpoint thread: a writer that never checkpoints keeps a bounded log while the thread runs, and the thread ends on stop", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/store.db`;
    const writer = new DatabaseSync(path);
    writer.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    // As the store's writers do (whenUnlocked), a write that meets a lock for a moment waits.
    writer.exec("PRAGMA wal_autocheckpoint = 0; PRAGMA busy_timeout = 2000");
    writer.exec("CREATE TABLE bulk (id INTEGER PRIMARY KEY, body BLOB)");
    const errors: string[] = [];
    // RESTART from 1,000 pages on, not the server's 4,096: far below what the writes would
    // make the log without checkpoints, however late a busy host runs the thread.
    const thread = startCheckpointThread(path, (error) => errors.push(error), {
      everyMs: 5,
      restartAtPages: 1000,
    });
    await thread.started();
    const insert = writer.prepare("INSERT INTO bulk (body) VALUES (?)");
    const row = new Uint8Array(3000);
    let largest = 0;
    try {
      for (let i = 0; i < 6000; i++) {
        insert.run(row);
        if (i % 100 === 99) {
          // The thread runs beside this one; a short pause lets it find the log between commits.
          await new Promise((resolve) => setTimeout(resolve, 2));
          largest = Math.max(largest, Deno.statSync(`${path}-wal`).size);
        }
      }
    } finally {
      const counts = await thread.stop();
      writer.close();
      assert(counts.passive > 0, JSON.stringify(counts) + errors.join(";"));
    }
    assertEquals(errors, []);
    // Without checkpoints the log would reach about 8,800 frames (36 MB). Under writes that never
    // pause, PASSIVE checkpoints never catch up: the RESTART at 1,000 frames bounds it.
    assert(largest < 4000 * 4120, `log file reached ${largest} bytes`);
  });
});

Deno.test("checkpoint thread: a database it cannot checkpoint is reported, and stop still ends the thread", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/store.db`;
    await Deno.writeTextFile(path, "not a database, ".repeat(1000));
    const errors: string[] = [];
    let reported = () => {};
    const thread = startCheckpointThread(path, (error) => {
      errors.push(error);
      reported();
    }, { everyMs: 2 });
    await within(
      30_000,
      "the failure reported",
      new Promise<void>((resolve) => reported = resolve),
    );
    const counts = await thread.stop();
    assertEquals([counts.passive, counts.restart], [0, 0]);
    assert(counts.failed >= 1, JSON.stringify(counts));
    assertEquals(errors.length, 1, errors.join("\n"));
    assert(/not a database/.test(errors[0]), errors[0]);
  });
});
