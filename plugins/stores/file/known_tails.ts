// What this process itself last wrote to a run's events file: the file's
// identity and size just after, its last seq and the summary.json text that
// went with it. An append finds the file as it left it (same inode, same
// size) whenever no other process wrote in between, which for the run's owner
// is nearly always: then neither the tail nor summary.json has to be read.
//
// Sound because events.jsonl only grows: another writer's append, and a
// crashed writer's torn line, both leave it larger, and a torn line is only
// cut off by a writer that then appends. summary.json is written only by an
// append (under the events file's lock) or when the run is created.
import type { RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import type { Tail } from "./jsonl.ts";

/** summary.json as this process last wrote or read it. */
export interface KnownSummary {
  text: string;
  slot: number;
  summary: RunSummary;
}

export interface KnownTail {
  ino: number;
  size: number;
  lastSeq: bigint;
  summary: KnownSummary;
}

/** Runs remembered at most; a supervisor writes one, a server a few hundred at once. */
const capacity = 1024;

export class KnownTails {
  private readonly runs = new Map<string, KnownTail>();

  /** What this process left in the run's files, forgotten until `remember` (a failed write leaves them unknown). */
  take(runId: string): KnownTail | undefined {
    const known = this.runs.get(runId);
    this.runs.delete(runId);
    return known;
  }

  remember(
    runId: string,
    ino: number | null,
    size: number,
    lastSeq: bigint,
    summary: KnownSummary,
  ): void {
    if (ino === null) return;
    this.runs.set(runId, { ino, size, lastSeq, summary });
    if (this.runs.size > capacity) this.runs.delete(this.runs.keys().next().value!);
  }
}

/** The tail and summary `known` describes, if the events file (just stat'ed, locked) is still as it was left. */
export function leftAsIs(
  known: KnownTail | undefined,
  file: Deno.FileInfo,
): { tail: Tail; summary: KnownSummary } | undefined {
  if (!known || file.ino === null || known.ino !== file.ino || known.size !== file.size) {
    return undefined;
  }
  return {
    tail: { lastSeq: known.lastSeq, end: known.size, size: known.size },
    summary: known.summary,
  };
}
