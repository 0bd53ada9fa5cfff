import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type LogLine, LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";

const flushLines = 200;
const flushMs = 100;

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
  ) {}

  line(stream: "stdout" | "stderr" | "system", text: string): void {
    this.pending.push(create(LogLineSchema, {
      time: timestampFromDate(this.clock.now()),
      stepId: this.stepId,
      stream,
      text,
    }));
    if (this.pending.length >= flushLines) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), flushMs);
  }

  /** Writes what is pending; resolves when everything written so far is stored. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() => this.store.appendLogs(this.runId, batch)).then(
        () => {},
      );
    }
    return this.writing;
  }
}
