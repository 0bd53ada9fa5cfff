// A separate process racing others on one store, for the store contract.
//
//   deno run -A store_writer.ts '<json Job>'
//
// It opens the store the way the contract says (a module, an export, its
// arguments), signals it is ready by creating `<barrier>/ready-<writer>`, and
// waits for `<barrier>/go` so all writers start together. Then it appends
// `count` events with retry on conflict, tries to take a lock, tries to
// create an API token, tries to bind a worker token to its machine, takes
// leases of one step, or writes versions of one data item, and prints a JSON result on stdout.
import { type RunStore, StoreConflict, TokenExists } from "../../runtime/mod.ts";
import { event, RunStatus, storedToken, summary } from "./store_messages.ts";

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
  mode: "append" | "lock" | "token" | "bind" | "lease" | "data";
  /** append, lock: the run that writes. */
  runId?: string;
  /** append: how many events to add. */
  count?: number;
  /** append: the run's creation time, for the summary. */
  createMs?: number;
  /** lock: the lock to race for. */
  lockName?: string;
  /** token: the name to race for; the token records the writer as its creator. bind: the worker token. */
  tokenName?: string;
  /** bind: the machine to bind the worker token to. */
  machineId?: string;
  /** bind: the time of the binding, ms since the epoch. */
  timeMs?: number;
  /** lease: the step to take `count` leases of (in `runId`). */
  stepId?: string;
  /** data: the item (model, name) to write `count` versions of, each with different attributes. */
  dataModel?: string;
  dataName?: string;
}

/** Longer than any race may take to start: a writer left waiting gives up on its own. */
const goTimeoutMs = 120_000;

async function openStore(opener: Opener): Promise<RunStore> {
  const module = await import(opener.module);
  return await module[opener.exportName](...opener.args);
}

async function waitForGo(barrier: string, writer: string): Promise<void> {
  await Deno.writeTextFile(`${barrier}/ready-${writer}`, "");
  const deadline = Date.now() + goTimeoutMs;
  for (;;) {
    try {
      await Deno.lstat(`${barrier}/go`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`writer ${writer}: no go signal`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function appendAll(store: RunStore, job: Job): Promise<{ conflicts: number }> {
  const runId = job.runId ?? "";
  let expected = 1n; // a guess: the first conflict tells the truth
  let conflicts = 0;
  const shape = {
    id: runId,
    workflow: "race",
    status: RunStatus.RUNNING,
    createMs: job.createMs ?? 0,
  };
  for (let i = 0; i < (job.count ?? 0);) {
    try {
      await store.append({
        runId,
        expectedSeq: expected,
        events: [event(runId, expected + 1n, `${job.writer}:${i}`, job.writer)],
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

async function createToken(store: RunStore, job: Job): Promise<{ created: boolean }> {
  try {
    await store.createApiToken(storedToken({ name: job.tokenName ?? "", createdBy: job.writer }));
    return { created: true };
  } catch (error) {
    if (error instanceof TokenExists) return { created: false };
    throw error;
  }
}

/** The binding as plain JSON: bound and changed, or the refusal. */
async function bindToken(store: RunStore, job: Job): Promise<BindOutcome> {
  const binding = await store.bindWorkerToken(
    job.tokenName ?? "",
    job.machineId ?? "",
    new Date(job.timeMs ?? 0),
  );
  if (!binding) return { bound: false, refusal: "unknown" };
  return binding.bound
    ? { bound: true, changed: binding.changed }
    : { bound: false, refusal: binding.refusal };
}

/** `count` leases of one step, one after another: the epochs it got, as decimal text. */
async function takeLeases(store: RunStore, job: Job): Promise<{ epochs: string[] }> {
  const epochs: string[] = [];
  for (let i = 0; i < (job.count ?? 0); i++) {
    const now = new Date();
    const lease = await store.acquireLease({
      runId: job.runId ?? "",
      stepId: job.stepId ?? "",
      attempt: i + 1,
      workerId: job.writer,
      now,
      expireTime: new Date(now.getTime() + 30_000),
    });
    epochs.push(String(lease.epoch));
  }
  return { epochs };
}

/** `count` versions of one data item, one after another: the versions it got. */
async function writeData(store: RunStore, job: Job): Promise<{ versions: number[] }> {
  const versions: number[] = [];
  for (let i = 0; i < (job.count ?? 0); i++) {
    const item = await store.putData({
      model: job.dataModel ?? "",
      modelType: "test/race",
      name: job.dataName ?? "",
      spec: "",
      attributes: { writer: job.writer, i },
      tags: {},
      runId: job.runId ?? "",
      stepId: job.writer,
      attempt: 1,
      now: new Date(),
    });
    versions.push(item.version);
  }
  return { versions };
}

export type BindOutcome = { bound: true; changed: boolean } | { bound: false; refusal: string };

async function work(store: RunStore, job: Job): Promise<unknown> {
  switch (job.mode) {
    case "append":
      return await appendAll(store, job);
    case "lock":
      return await store.tryAcquireLock(job.lockName ?? "", job.runId ?? "");
    case "token":
      return await createToken(store, job);
    case "bind":
      return await bindToken(store, job);
    case "lease":
      return await takeLeases(store, job);
    case "data":
      return await writeData(store, job);
  }
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0]) as Job;
  const store = await openStore(job.opener);
  await waitForGo(job.barrier, job.writer);
  const result = await work(store, job);
  await store.close();
  console.log(JSON.stringify(result));
}
