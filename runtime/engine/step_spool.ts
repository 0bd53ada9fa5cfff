// A local step's spool files (decision 0024): made ready before it starts,
// named with each line stored from them, and removed once every line read
// from them is stored. A crash in between leaves them for the reconciler.
import type { StepWork } from "../ports/executor.ts";
import type { RunStore } from "../ports/store.ts";
import { runSpoolDir, spoolFile, spoolName } from "../run/spool.ts";
import type { LogWriter } from "./logs.ts";

/** The spool a step attempt writes to, its directory created; undefined when the store has none. */
export function prepareSpool(
  store: RunStore,
  runId: string,
  stepId: string,
  attempt: number,
): StepWork["spool"] {
  const dir = runSpoolDir(store, runId);
  if (dir === undefined) return undefined;
  // Synchronous: on the way to every step's start, and quicker than a trip to the thread pool.
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { dir, name: spoolName(stepId, attempt) };
}

/** What a stored line read from the spool says about where it came from. */
export function spoolMark(
  spool: StepWork["spool"],
  stream: "stdout" | "stderr",
  offset: number | undefined,
): { file: string; offset: number } | undefined {
  return spool === undefined || offset === undefined
    ? undefined
    : { file: spoolFile(spool.name, stream), offset };
}

/**
 * Once the step has exited: stores what is pending, then removes its spool
 * files, unless some lines could not be stored (then the files stay for
 * the reconciler or prune).
 */
export async function releaseSpool(spool: StepWork["spool"], logs: LogWriter): Promise<void> {
  if (spool === undefined) return;
  await logs.flush();
  if (logs.lostAny) return;
  for (const stream of ["stdout", "stderr"] as const) {
    try {
      // Synchronous: an unlink is quicker than a trip to the thread pool.
      Deno.removeSync(`${spool.dir}/${spoolFile(spool.name, stream)}`);
    } catch {
      // gone already
    }
  }
}

/** When a run's steps are all over: its spool directory goes, unless files were kept in it. */
export async function removeRunSpool(store: RunStore, runId: string): Promise<void> {
  const dir = runSpoolDir(store, runId);
  if (dir !== undefined) await Deno.remove(dir).catch(() => {});
}
