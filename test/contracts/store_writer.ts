// A separate process racing others on one store, for the store contract.
//
//   deno run -A store_writer.ts '<json Job>'
//
// It opens the store the way the contract says (a module, an export, its
// arguments), signals it is ready by creating `<barrier>/ready-<writer>`, and
// waits for `<barrier>/go` so all writers start together. Then it either
// appends `count` events with retry on conflict, or tries to take a lock, and
// prints a JSON result on stdout.
import { type RunStore, StoreConflict } from "../../runtime/mod.ts";
import { event, RunStatus, summary } from "./store_messages.ts";

export interface Opener {
  /** Module URL exporting the open function. */
  module: string;
  exportName: string;
  args: string[];
}

export interface Job {
  opener: Opener;
  barrier: string;
  writer: string;
  mode: "append" | "lock";
  runId: string;
  /** append: how many events to add. */
  count?: number;
  /** append: the run's creation time, for the summary. */
  createMs?: number;
  /** lock: the lock to race for. */
  lockName?: string;
}

async function openStore(opener: Opener): Promise<RunStore> {
  const module = await import(opener.module);
  return await module[opener.exportName](...opener.args);
}

async function waitForGo(barrier: string, writer: string): Promise<void> {
  await Deno.writeTextFile(`${barrier}/ready-${writer}`, "");
  for (;;) {
    try {
      await Deno.lstat(`${barrier}/go`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function appendAll(store: RunStore, job: Job): Promise<{ conflicts: number }> {
  let expected = 1n; // a guess: the first conflict tells the truth
  let conflicts = 0;
  const shape = {
    id: job.runId,
    workflow: "race",
    status: RunStatus.RUNNING,
    createMs: job.createMs ?? 0,
  };
  for (let i = 0; i < (job.count ?? 0);) {
    try {
      await store.append({
        runId: job.runId,
        expectedSeq: expected,
        events: [event(job.runId, expected + 1n, `${job.writer}:${i}`, job.writer)],
        summary: summary(shape),
      });
      expected++;
      i++;
    } catch (error) {
      if (!(error instanceof StoreConflict)) throw error;
      expected = error.actualSeq;
      conflicts++;
    }
  }
  return { conflicts };
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0]) as Job;
  const store = await openStore(job.opener);
  await waitForGo(job.barrier, job.writer);
  const result = job.mode === "append"
    ? await appendAll(store, job)
    : await store.tryAcquireLock(job.lockName ?? "", job.runId);
  await store.close();
  console.log(JSON.stringify(result));
}
