// A server on a SQLite store checkpoints the write-ahead log on a thread of
// its own (decision 0037): its commits leave the log to that thread, which
// keeps it short.
import { assert, assertEquals } from "../helpers/assert.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import { repoWith, shellStep, workflowFile } from "../helpers/runs.ts";

/** Frames the log file has held at most (SQLite reuses the file from its start after a restart). */
function walFrames(root: string): number {
  const size = Deno.statSync(`${root}/.swamp/swamp.db-wal`).size;
  return Math.floor(Math.max(0, size - 32) / (24 + 4096));
}

// About 100 KB of output a run: 100 lines of 1,000 characters.
const loud = workflowFile(
  "loud",
  shellStep(
    "talk",
    "line=$(printf '%01000d' 0); i=0; while [ $i -lt 100 ]; do echo $line; i=$((i+1)); done",
  ),
);

Deno.test("serve on sqlite: the log stays short while runs write megabytes, and no checkpoint fails", async () => {
  await using repo = await repoWith("sqlite", { "workflows/loud.yaml": loud });
  const operator = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root);
  let pagesWritten = 0;
  let frames = 0;
  try {
    for (let i = 0; i < 60; i++) {
      const ran = await server.cli(["workflow", "run", "loud", "-q"], operator);
      assertEquals(ran.code, 0, ran.stderr);
    }
    // What the runs wrote, from the database's own size: every page of it passed through the log.
    pagesWritten = Math.floor(Deno.statSync(`${repo.root}/.swamp/swamp.db`).size / 4096);
    // Read before the server stops: the last connection to close checkpoints and removes the log.
    frames = walFrames(repo.root);
  } finally {
    assertEquals(await server.stop(), 0);
  }
  // Deferred checkpoints without the thread let the log hold every page written (about 12,700
  // frames here); the thread's, every 200 ms, keep it to what a few runs write (600-800).
  assert(frames < 2000, `the log reached ${frames} frames for ${pagesWritten} pages written`);
  // Every page in the database passed through the log: enough for the bound above to mean something.
  assert(pagesWritten > 3000, `the runs wrote only ${pagesWritten} pages`);
  const failures = server.events.filter((e) => e.event === "error");
  assertEquals(failures, []);
});
