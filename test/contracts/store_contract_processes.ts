// The part of the store contract that needs real processes: several writers
// (store_writer.ts subprocesses) race on one run or one lock, released
// together by a barrier so they really overlap.
import type { LockResult } from "../../runtime/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import { type OpenStore, type StoreFixture, withStore } from "./store_fixture.ts";
import { newRun, runId, RunStatus } from "./store_messages.ts";
import type { Job } from "./store_writer.ts";

const writerScript = new URL("./store_writer.ts", import.meta.url).pathname;
const repoRoot = new URL("../../", import.meta.url).pathname;

export type Spec = Omit<Job, "opener" | "barrier">;

/** Starts one writer process per spec, releases them together, returns their JSON results. */
export async function race<T>(fixture: StoreFixture, specs: Spec[]): Promise<T[]> {
  const opener = fixture.opener;
  if (!opener) throw new Error("this store cannot be opened by another process");
  const barrier = await Deno.makeTempDir({ prefix: "swamp-store-race-" });
  try {
    const children = specs.map((spec) => {
      const job: Job = { ...spec, opener, barrier };
      return new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-all", writerScript, JSON.stringify(job)],
        cwd: repoRoot,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    });
    let exited = 0;
    const outputs = children.map((child) => child.output().finally(() => exited++));
    const deadline = Date.now() + 60_000;
    for (;;) {
      let ready = 0;
      for (const spec of specs) {
        try {
          await Deno.lstat(`${barrier}/ready-${spec.writer}`);
          ready++;
        } catch { /* not yet */ }
      }
      if (ready === specs.length) break;
      // A writer that exits before it is ready has failed: stop waiting and show why.
      if (exited > 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Deno.writeTextFile(`${barrier}/go`, "");
    const decoder = new TextDecoder();
    return (await Promise.all(outputs)).map((output, i) => {
      const stderr = decoder.decode(output.stderr);
      assert(output.success, `writer ${specs[i].writer} failed:\n${stderr}`);
      const lines = decoder.decode(output.stdout).trim().split("\n");
      return JSON.parse(lines[lines.length - 1]) as T;
    });
  } finally {
    await Deno.remove(barrier, { recursive: true });
  }
}

/**
 * `oneProcess`: why the store cannot be shared between processes (the memory
 * store); its cases are then not registered: they do not apply.
 */
export function processContract(name: string, open: OpenStore, oneProcess?: string): void {
  // Not registered at all for a one-process store: the cases do not apply, they are not skipped.
  const test = (what: string, fn: () => Promise<void>) => {
    if (oneProcess === undefined) Deno.test(`${name} store: ${what}`, fn);
  };

  test("appends racing from several processes lose nothing", async () => {
    await withStore(open, async (fixture) => {
      const run = newRun({ status: RunStatus.RUNNING });
      await fixture.store.createRun(run.first, run.summary, run.snapshot);
      const writers = ["w1", "w2", "w3"];
      const count = 25;
      const results = await race<{ conflicts: number }>(
        fixture,
        writers.map((writer) => ({
          writer,
          mode: "append",
          runId: run.shape.id,
          count,
          createMs: run.shape.createMs,
        })),
      );
      const all = await fixture.store.readEvents(run.shape.id, 0n);
      const total = 1 + writers.length * count;
      assertEquals(all.map((e) => e.seq), Array.from({ length: total }, (_, i) => BigInt(i + 1)));
      for (const writer of writers) {
        const mine = all.filter((e) => e.actor === writer).map((e) => e.reason);
        assertEquals(mine, Array.from({ length: count }, (_, i) => `${writer}:${i}`));
      }
      // Not asserted (timing decides it), but worth seeing when it never happens.
      const conflicts = results.reduce((n, r) => n + r.conflicts, 0);
      if (conflicts === 0) console.warn(`${name}: the writers never collided`);
      const reopened = await fixture.reopen();
      assertEquals((await reopened.loadRun(run.shape.id))?.tail.at(-1)?.seq, BigInt(total));
    });
  });

  test("processes racing for one lock, exactly one wins", async () => {
    await withStore(open, async (fixture) => {
      const specs = ["a", "b", "c"].map((writer) => ({
        writer,
        mode: "lock" as const,
        runId: runId(),
        lockName: "env/production",
      }));
      const results = await race<LockResult>(fixture, specs);
      const winners = specs.filter((_, i) => results[i].acquired);
      assertEquals(winners.length, 1);
      for (const result of results) {
        if (!result.acquired) assertEquals(result.holder.runId, winners[0].runId);
      }
      const locks = await fixture.store.listLocks();
      assertEquals(locks.map((l) => [l.name, l.runId]), [["env/production", winners[0].runId]]);
    });
  });
}
