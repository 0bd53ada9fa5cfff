// Pruning one ended run from the file store. The run's events.jsonl lock (the
// one every append takes) is held from the check to the commit, so a writer
// that would make the run live again either went first (and the run no longer
// qualifies) or finds it gone. The commit is one rename of the run's
// directory into trash/: before it the run is whole, after it the run is gone
// (its index line then has no summary behind it and listings skip it, as they
// skip a run whose creation never finished). Deleting the trashed directory
// is cleanup; a crash before it leaves files that the next prune removes.
import { type PrunedRun, type PruneRule, qualifiesForPrune } from "../../../runtime/mod.ts";
import { decodeSummaryFile } from "./codec.ts";
import { exists, readTextIfExists, removeIfExists } from "./fsio.ts";
import type { LeaseFiles } from "./leases.ts";
import type { LockFiles } from "./locks.ts";
import { isRunId, type Layout } from "./paths.ts";

export interface PruneParts {
  layout: Layout;
  locks: LockFiles;
  leases: LeaseFiles;
}

export function pruneRunFiles(
  parts: PruneParts,
  runId: string,
  rule: PruneRule,
): PrunedRun | undefined {
  const { layout } = parts;
  if (!isRunId(runId)) return undefined;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(layout.events(runId), { read: true, append: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let trashed: string | undefined;
  let bytes = 0;
  try {
    file.lockSync(true);
    // Another prune may have taken it while this one waited for the lock.
    if (!exists(layout.run(runId))) return undefined;
    const text = readTextIfExists(layout.summary(runId));
    if (text === undefined || !qualifiesForPrune(decodeSummaryFile(text).summary, rule)) {
      return undefined;
    }
    bytes = directoryBytes(layout.run(runId));
    // An ended run should hold no lock and no active lease; any left are its own, so they go
    // first: a crash after this leaves the run whole, only without what it no longer needed.
    parts.locks.releaseAllNow(runId);
    parts.leases.removeRunNow(runId);
    Deno.mkdirSync(layout.trash, { recursive: true });
    trashed = `${layout.trash}/${runId}.${crypto.randomUUID()}`;
    // Not flushed: a prune lost to a power cut leaves the run whole, to be pruned again, and
    // journaled file systems keep this rename ahead of the deletes that follow it.
    Deno.renameSync(layout.run(runId), trashed);
    removeIfExists(layout.activeMarker(runId));
  } finally {
    file.close(); // also releases the lock
  }
  removeTree(trashed);
  return { runId, bytes };
}

/** Deletes what earlier prunes left in trash/ (a crash between their rename and delete). */
export function emptyTrash(layout: Layout): void {
  let names: string[];
  try {
    names = [...Deno.readDirSync(layout.trash)].map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const name of names) removeTree(`${layout.trash}/${name}`);
}

function removeTree(path: string | undefined): void {
  if (path === undefined) return;
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    // Another process emptying the trash got there first.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile) continue;
    try {
      total += Deno.statSync(`${dir}/${entry.name}`).size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return total;
}
