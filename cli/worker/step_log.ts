// A worker process's step records (step_records.ts) as one append-only log,
// <cache-dir>/steps/worker-<pid>-<start>.jsonl: a line when a step starts,
// {"started": record}, and one when it ends, {"ended": lease id}. One
// synchronous append each, to a file this process alone writes, instead of a
// file made, renamed and deleted per step (decision 0035 did the same for
// leases). Page-cache writes: they must outlive the worker process, not the
// machine, whose reboot ends the steps anyway.
//
// The log is emptied whenever no step runs (after enough lines to be worth
// it), rewritten with the running steps only when it grows long while some
// always run, and removed when the process stops with nothing running.
import type { RecordedProcess } from "../../runtime/mod.ts";

/** One running step, as a worker records it. */
export interface StepRecord {
  version: 1;
  leaseId: string;
  runId: string;
  stepId: string;
  /** The boot the step ran in: its pid and start time mean nothing in another. */
  bootId: string;
  /** The worker process that ran it; while that one lives, nobody else reaps its steps. */
  owner: { pid: number; processStart: string };
  process: RecordedProcess;
  /** The step's scratch directory in the cache dir, removed with the record. */
  scratch?: string;
}

export type StepLogLine = { started: StepRecord } | { ended: string };

/** Lines after which a log with no running step is emptied. */
const emptyAbove = 64;
/** Lines after which a log is rewritten with its running steps only. */
const rewriteAbove = 1024;

export class StepLog {
  #file?: Deno.FsFile;
  readonly #running = new Map<string, StepRecord>();
  #lines = 0;
  readonly path: string;

  /** `dir` is `<cache-dir>/steps`; the log is named for this process (pid and start time). */
  constructor(readonly dir: string, owner: StepRecord["owner"]) {
    this.path = `${dir}/${stepLogName(owner)}`;
  }

  started(record: StepRecord): void {
    this.#append({ started: record });
    this.#running.set(record.leaseId, record);
  }

  ended(leaseId: string): void {
    if (!this.#running.delete(leaseId)) return;
    this.#append({ ended: leaseId });
    if (this.#running.size === 0 && this.#lines > emptyAbove) {
      this.#file!.truncateSync(0);
      this.#lines = 0;
    } else if (this.#lines > rewriteAbove) {
      this.#rewrite();
    }
  }

  /** Closes the log; removes it when no step it records runs. */
  close(): void {
    if (!this.#file) return;
    this.#file.close();
    this.#file = undefined;
    if (this.#running.size === 0) {
      try {
        Deno.removeSync(this.path);
      } catch {
        // gone already
      }
    }
  }

  #append(line: StepLogLine): void {
    if (!this.#file) {
      Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o600 });
    }
    const bytes = new TextEncoder().encode(logLine(line));
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
    this.#lines += 1;
  }

  #rewrite(): void {
    writeStepLog(this.path, [...this.#running.values()]);
    this.#file!.close();
    this.#file = Deno.openSync(this.path, { append: true });
    this.#lines = this.#running.size;
  }
}

/** One line of a log. */
function logLine(line: StepLogLine): string {
  return JSON.stringify(line) + "\n";
}

/** Replaces the log at `path` with one that says `running` were started, by rename. */
export function writeStepLog(path: string, running: StepRecord[]): void {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  Deno.writeTextFileSync(temp, running.map((r) => logLine({ started: r })).join(""), {
    mode: 0o600,
  });
  Deno.renameSync(temp, path);
}

/** The log's file name for a worker process. */
export function stepLogName(owner: StepRecord["owner"]): string {
  return `worker-${owner.pid}-${owner.processStart.replace(/[^0-9A-Za-z]/g, "") || "0"}.jsonl`;
}

/** The worker process a log's file name names, or undefined when it names none. */
export function stepLogOwner(name: string): StepRecord["owner"] | undefined {
  const match = /^worker-([1-9][0-9]*)-([0-9A-Za-z]+)\.jsonl$/.exec(name);
  return match ? { pid: Number(match[1]), processStart: match[2] } : undefined;
}

/**
 * The steps a log says were started and not ended, in the order started.
 * Lines that are not log lines are skipped (a machine crash can cut the last
 * one short).
 */
export function runningInLog(text: string): StepRecord[] {
  const running = new Map<string, StepRecord>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: Partial<{ started: StepRecord; ended: string }>;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof parsed.ended === "string") running.delete(parsed.ended);
    else if (typeof parsed.started?.leaseId === "string") {
      running.set(parsed.started.leaseId, parsed.started);
    }
  }
  return [...running.values()];
}
