/// <reference path="./node_sqlite.d.ts" />
import { DatabaseSync } from "node:sqlite";
import { assertEquals } from "../../../test/helpers/assert.ts";
import { openSqliteStore } from "./mod.ts";

Deno.test("sqlite: a lease table made before lease nonces gains the column, and its old leases still read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-sqlite-schema-" });
  try {
    const path = `${dir}/store.db`;
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE leases (
      run_id TEXT NOT NULL, step_id TEXT NOT NULL, epoch INTEGER NOT NULL,
      attempt INTEGER NOT NULL, worker_id TEXT NOT NULL, create_ms INTEGER NOT NULL,
      expire_ms INTEGER NOT NULL, has_written INTEGER NOT NULL, state TEXT NOT NULL,
      PRIMARY KEY (run_id, step_id))`);
    old.exec(`INSERT INTO leases VALUES ('r1', 'j/s', 3, 1, 'w1', 0, 1000, 0, 'active')`);
    old.close();

    const store = await openSqliteStore(path);
    try {
      // The old lease keeps the id it was handed out under.
      const kept = await store.getLease("r1/j/s#3");
      assertEquals([kept?.epoch, kept?.state], [3n, "active"]);
      const next = await store.acquireLease({
        runId: "r1",
        stepId: "j/s",
        attempt: 2,
        workerId: "w2",
        now: new Date(2000),
        expireTime: new Date(9000),
      });
      assertEquals(next.epoch, 4n);
      assertEquals((await store.getLease(next.id))?.workerId, "w2");
      assertEquals(await store.getLease("r1/j/s#3"), undefined);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
