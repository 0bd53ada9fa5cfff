import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type LogLine, LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import type { SecretMask } from "../text/secret_mask.ts";
import { MaskedLines } from "../text/masked_lines.ts";

const flushLines = 200;
const flushMs = 100;
/** Characters of lines given and not yet stored at most before `room()` makes a reader wait. */
const queuedCharsLimit = 8 * 1024 * 1024;
/** A batch the store refused is tried once more after this long (a lock held, a full disk freed). */
const retryMs = 250;

/** Where a line was read from a step's spool file: the file, and the offset just past the line. */
export interface SpoolPlace {
  file: string;
  offset: number;
}

/** Told how many lines the store refused twice, and why, once it has given up on them. */
export type LostLines = (count: number, error: string) => void;

/** Collects a step's log lines and writes them in batches. */
export class LogWriter {
  private pending: LogLine[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Whether a batch was given up on. */
  lostAny = false;
  /** Characters of the lines given and not yet stored (or given up on). */
  private queuedChars = 0;
  private roomWaiters: (() => void)[] = [];

  constructor(
    private readonly store: RunStore,
    private readonly clock: Clock,
    private readonly runId: string,
    private readonly stepId: string,
    private readonly lost: LostLines = () => {},
    /** The run's secrets: each line is masked before it is kept. */
    private readonly mask?: SecretMask,
  ) {}

  /** Per output stream: a long line's pieces are masked across their seams. */
  private readonly masked = new Map<string, MaskedLines<SpoolPlace>>();

  /** `spool`: the spool file the line was read from and the offset just past it there. */
  line(stream: "stdout" | "stderr" | "system", text: string, spool?: SpoolPlace): void {
    if (!this.mask) this.add(stream, text, spool);
    else if (stream === "system") this.add(stream, this.mask.apply(text), spool);
    else {
      let lines = this.masked.get(stream);
      if (!lines) this.masked.set(stream, lines = new MaskedLines(this.mask));
      for (const line of lines.push(text, spool)) this.add(stream, line.text, line.tag);
      // A held piece goes out with the next flush even if no other line comes.
      this.timer ??= setTimeout(() => void this.flush(), flushMs);
    }
  }

  /**
   * Resolves once the lines given and not yet stored are few enough, or is
   * undefined when they already are: a step's output is read only as fast as
   * the store keeps it, so a flood of output does not pile up in memory.
   */
  room(): Promise<void> | undefined {
    // Nothing to wait for: no promise, so a line of output costs no extra turn of the loop.
    if (this.queuedChars < queuedCharsLimit) return undefined;
    void this.flush();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private add(stream: string, text: string, spool?: SpoolPlace): void {
    this.queuedChars += text.length;
    this.pending.push(this.logLine(stream, text, spool));
    if (this.pending.length >= flushLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), flushMs);
  }

  private logLine(stream: string, text: string, spool?: SpoolPlace): LogLine {
    return create(LogLineSchema, {
      time: timestampFromDate(this.clock.now()),
      stepId: this.stepId,
      stream,
      text,
      ...(spool ? { spool: spool.file, spoolOffset: BigInt(spool.offset) } : {}),
    });
  }

  /**
   * Writes what is pending; resolves when everything given so far is stored
   * or given up on. Never rejects: a batch the store refuses is tried again
   * once, then reported through `lost`, and the batches after it still go.
   */
  flush(): Promise<void> {
    for (const [stream, lines] of this.masked) {
      for (const line of lines.drain()) {
        this.pending.push(this.logLine(stream, line.text, line.tag));
      }
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: LogLine[]): Promise<void> {
    try {
      await this.store.appendLogs(this.runId, batch);
      this.stored(batch);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    try {
      await this.store.appendLogs(this.runId, batch);
    } catch (error) {
      this.lostAny = true;
      this.lost(batch.length, error instanceof Error ? error.message : String(error));
    }
    this.stored(batch);
  }

  private stored(batch: LogLine[]): void {
    for (const line of batch) this.queuedChars -= line.text.length;
    if (this.queuedChars >= queuedCharsLimit) return;
    const waiting = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiting) resolve();
  }
}
