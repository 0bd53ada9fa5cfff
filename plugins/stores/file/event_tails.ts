// A running run's events after its snapshot, as this process last read them:
// the next read takes only what was appended since. A GetRun of a running run
// re-read and re-decoded the whole tail on every call (about 0.8 ms for a
// 100-step run), though an event log only grows. A log that is not the one
// read before (another inode, shorter than what was read, a seq that does not
// follow) is read again from its start.
import type { RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { readOpenAfter, scanLines } from "./jsonl.ts";

interface Tail {
  ino: number | null;
  /** Offset just past the last whole line read. */
  end: number;
  /** The events read with seq > `after`, in order. */
  after: bigint;
  events: RunEvent[];
}

/** How many runs' tails are kept; the least recently read go first. */
const CAPACITY = 256;

export class EventTails {
  #tails = new Map<string, Tail>();

  /**
   * The events of `runId`'s log at `path` with seq > `afterSeq`, in order;
   * undefined when there is no log. The array is new; its events are shared.
   */
  read(
    runId: string,
    path: string,
    afterSeq: bigint,
    decode: (json: unknown) => RunEvent,
  ): RunEvent[] | undefined {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch (error) {
      this.#tails.delete(runId);
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    try {
      const stat = file.statSync();
      const known = this.#tails.get(runId);
      this.#tails.delete(runId);
      const tail = known && known.ino === stat.ino && known.end <= stat.size &&
          known.after <= afterSeq
        ? this.#readOn(file, stat.size, known, afterSeq, decode)
        : undefined;
      const fresh = tail ?? this.#readAll(file, stat, afterSeq, decode);
      this.#tails.set(runId, fresh);
      if (this.#tails.size > CAPACITY) this.#tails.delete(this.#tails.keys().next().value!);
      return fresh.events.slice();
    } finally {
      file.close();
    }
  }

  /** `known` and what was appended after it; undefined when the log does not follow on. */
  #readOn(
    file: Deno.FsFile,
    size: number,
    known: Tail,
    afterSeq: bigint,
    decode: (json: unknown) => RunEvent,
  ): Tail | undefined {
    const events = known.events.filter((event) => event.seq > afterSeq);
    let last = known.events.at(-1)?.seq ?? afterSeq;
    let follows = true;
    let end: number;
    try {
      end = scanLines(file, known.end, size, (json) => {
        const event = decode(json);
        follows = event.seq > last;
        last = event.seq;
        if (event.seq > afterSeq) events.push(event);
        return follows;
      });
    } catch {
      return undefined; // not a line's start: the log was rewritten
    }
    return follows ? { ino: known.ino, end, after: afterSeq, events } : undefined;
  }

  #readAll(
    file: Deno.FsFile,
    stat: Deno.FileInfo,
    afterSeq: bigint,
    decode: (json: unknown) => RunEvent,
  ): Tail {
    const { values, end } = readOpenAfter(file, stat.size, { afterSeq, accept: decode });
    return { ino: stat.ino, end, after: afterSeq, events: values };
  }
}
