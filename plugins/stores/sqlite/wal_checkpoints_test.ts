/// <reference path="./node_sqlite.d.ts" />
import type { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../../test/helpers/assert.ts";
import { within } from "../../../test/helpers/runs.ts";
import { deferredCheckpointPages, openDatabase } from "./schema.ts";
import { checkpointEvery, type WalCheckpoints } from "./wal_checkpoints.ts";

/** Frames in the write-ahead log file: what it has held at most since it was made. */
function walFrames(path: string): number {
  const frame = 24 + 4096;
  return Math.floor(Math.max(0, Deno.statSync(`${path}-wal`).size - 32) / frame);
}

const row = new Uint8Array(3000).fill(7);

/** Writes `count` one-row transactions (about one page each), yielding to timers every 50. */
async function writeRows(db: DatabaseSync, count: number): Promise<void> {
  db.exec("CREATE TABLE IF NOT EXISTS bulk (id INTEGER PRIMARY KEY, body BLOB)");
  const insert = db.prepare("INSERT INTO bulk (body) VALUES (?)");
  for (let i = 0; i < count; i++) {
    db.exec("BEGIN IMMEDIATE");
    insert.run(row);
    db.exec("COMMIT");
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Resolves once `rounds` checkpoints have failed. */
async function roundsFailed(checkpoints: WalCheckpoints, rounds: number): Promise<void> {
  while (checkpoints.counts().failed < rounds) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function rowCount(db: DatabaseSync): number {
  return (db.prepare("SELECT count(*) AS n FROM bulk").get() as Record<string, number>).n;
}

async function inTempDir(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-sqlite-wal-" });
  try {
    await body(`${dir}/store.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite: a connection with deferred checkpoints leaves the log to grow past SQLite's 1,000 pages; an inline one does not", async () => {
  await inTempDir(async (path) => {
    const deferred = await openDatabase(path, { checkpoints: "deferred" });
    try {
      assertEquals(
        (deferred.prepare("PRAGMA wal_autocheckpoint").get() as Record<string, number>)
          .wal_autocheckpoint,
        deferredCheckpointPages,
      );
      await writeRows(deferred, 3000);
      assert(walFrames(path) >= 3000, `log of ${walFrames(path)} frames`);
    } finally {
      deferred.close();
    }
  });
  await inTempDir(async (path) => {
    const inline = await openDatabase(path);
    try {
      await writeRows(inline, 3000);
      assert(walFrames(path) < 1100, `log of ${walFrames(path)} frames`);
    } finally {
      inline.close();
    }
  });
});

Deno.test("sqlite: checkpoints made by a connection of their own keep a deferred writer's log short, and every row stays", async () => {
  await inTempDir(async (path) => {
    const writer = await openDatabase(path, { checkpoints: "deferred" });
    const checkpoints = checkpointEvery(path, { everyMs: 5 });
    try {
      await writeRows(writer, 8000);
      const frames = walFrames(path);
      assert(frames < 1500, `log of ${frames} frames after 8,000 one-page commits`);
      assert(checkpoints.counts().passive > 10, JSON.stringify(checkpoints.counts()));
      assertEquals(rowCount(writer), 8000);
    } finally {
      checkpoints.stop();
      writer.close();
    }
  });
});

Deno.test("sqlite: a log still long after a checkpoint is started over with a RESTART checkpoint", async () => {
  await inTempDir(async (path) => {
    const writer = await openDatabase(path, { checkpoints: "deferred" });
    // A reader that holds its snapshot keeps PASSIVE checkpoints from reaching the log's end,
    // so the writer can never start the log over: only a RESTART that waits for it can.
    const reader = await openDatabase(path);
    const checkpoints = checkpointEvery(path, {
      everyMs: 5,
      restartAtPages: 400,
      restartWaitMs: 0,
    });
    try {
      await writeRows(writer, 100);
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM bulk").get();
      await writeRows(writer, 500);
      assertEquals(
        checkpoints.counts().restart,
        0,
        "a RESTART cannot finish while the reader reads",
      );
      reader.exec("COMMIT");
      await writeRows(writer, 1000);
      assert(checkpoints.counts().restart > 0, JSON.stringify(checkpoints.counts()));
      assertEquals(rowCount(writer), 1600);
    } finally {
      checkpoints.stop();
      reader.close();
      writer.close();
    }
  });
});

Deno.test("sqlite: a checkpoint that fails is reported once, not on every try", async () => {
  await inTempDir(async (path) => {
    await Deno.writeTextFile(path, "not a database, ".repeat(1000));
    const errors: string[] = [];
    const checkpoints = checkpointEvery(path, {
      everyMs: 2,
      onError: (error) => errors.push(String(error)),
    });
    try {
      await within(30_000, "10 failed rounds", roundsFailed(checkpoints, 10));
      assertEquals(errors.length, 1, errors.join("\n"));
      assert(/not a database/.test(errors[0]), errors[0]);
      assertEquals([checkpoints.counts().passive, checkpoints.counts().restart], [0, 0]);
    } finally {
      checkpoints.stop();
    }
  });
});

Deno.test("sqlite: a database busy for a moment is not a failed checkpoint; one that stays busy is reported once", async () => {
  await inTempDir(async (path) => {
    const writer = await openDatabase(path, { checkpoints: "deferred" });
    await writeRows(writer, 10);
    const errors: string[] = [];
    const checkpoints = checkpointEvery(path, {
      everyMs: 2,
      busyRounds: 20,
      onError: (error) => errors.push(String(error)),
    });
    try {
      // An exclusive lock held by another connection: every checkpoint finds the database busy.
      writer.exec("PRAGMA locking_mode = EXCLUSIVE");
      writer.exec("BEGIN EXCLUSIVE");
      writer.exec("INSERT INTO bulk (body) VALUES (x'00')");
      await within(30_000, "5 busy rounds", roundsFailed(checkpoints, 5));
      assertEquals(errors, [], "busy for 5 rounds of the 20 allowed");
      await within(30_000, "40 busy rounds", roundsFailed(checkpoints, 40));
      assertEquals(errors.length, 1, errors.join("\n"));
      assert(/locked|busy/i.test(errors[0]), errors[0]);
      writer.exec("COMMIT");
    } finally {
      checkpoints.stop();
      writer.close();
    }
  });
});
