import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type LogLine, LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import type { SecretMask } from "../text/secret_mask.ts";
import { MaskedLines } from "../text/masked_lines.ts";

const flushLines = 200;
const flushMs = 100;
/** A batch the store refused is tried once more after this long (a lock held, a full disk freed). */
const retryMs = 250;

/** Told how many lines the store refused twice, and why, once it has given up on them. */
export type LostLines = (count: number, error: string) => void;

/** Collects a step's log lines and writes them in batches. */
export class LogWriter {
  private pending: LogLine[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();

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
  private readonly masked = new Map<string, MaskedLines>();

  line(stream: "stdout" | "stderr" | "system", text: string): void {
    if (!this.mask) this.add(stream, text);
    else if (stream === "system") this.add(stream, this.mask.apply(text));
    else {
      let lines = this.masked.get(stream);
      if (!lines) this.masked.set(stream, lines = new MaskedLines(this.mask));
      for (const line of lines.push(text)) this.add(stream, line);
      // A held piece goes out with the next flush even if no other line comes.
      this.timer ??= setTimeout(() => void this.flush(), flushMs);
    }
  }

  private add(stream: string, text: string): void {
    this.pending.push(create(LogLineSchema, {
      time: timestampFromDate(this.clock.now()),
      stepId: this.stepId,
      stream,
      text,
    }));
    if (this.pending.length >= flushLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), flushMs);
  }

  /**
   * Writes what is pending; resolves when everything given so far is stored
   * or given up on. Never rejects: a batch the store refuses is tried again
   * once, then reported through `lost`, and the batches after it still go.
   */
  flush(): Promise<void> {
    for (const [stream, lines] of this.masked) {
      for (const line of lines.drain()) {
        this.pending.push(create(LogLineSchema, {
          time: timestampFromDate(this.clock.now()),
          stepId: this.stepId,
          stream,
          text: line,
        }));
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
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    try {
      await this.store.appendLogs(this.runId, batch);
    } catch (error) {
      this.lost(batch.length, error instanceof Error ? error.message : String(error));
    }
  }
}
