// What a worker leaves on its machine when it dies without stopping its
// steps. Each step runs in its own session (or its own container), so a
// `kill -9` of the worker leaves it running; Linux has no portable "kill my children when I die"
// for a process that is not their parent's thread (PR_SET_PDEATHSIG is per
// thread, and Deno cannot set it on the steps it spawns). So the worker
// records each running step's process (pid, group, start time, lease) in its
// cache dir and marks it ended when the step ends; the next worker process of
// that cache dir reaps what is left before it connects.
//
// A worker process appends its records to a log of its own (step_log.ts),
// never fsynced: it must outlive the worker process, not the machine, whose
// reboot ends the steps anyway (records of another boot are dropped). Workers
// before that log wrote one file per record, <lease>.json; those are reaped
// too.
import {
  bootId,
  type Executor,
  isSameProcessAlive,
  processStartTime,
  type RecordedProcess,
} from "../../runtime/mod.ts";
import { runningInLog, StepLog, stepLogOwner, type StepRecord, writeStepLog } from "./step_log.ts";

export type { StepRecord };

/** One leftover step and what was done about it, for the `reaped` lifecycle line. */
export interface ReapReport {
  leaseId: string;
  runId: string;
  stepId: string;
  pid: number;
  pgid: number;
  processStart: string;
  /**
   * `stopped` (it ran and was ended), `gone`, `reused` (its pid is another
   * process's now), `other-boot`, `unprovable` (no start time to compare),
   * and, keeping the record: `owner-alive`, `left-running`, `unreadable`,
   * `no-executor` (this worker has no executor of the recorded name).
   */
  outcome: string;
  /** Whether none of the step's processes is left (the record is then removed). */
  confirmed: boolean;
  actions: string[];
}

/** Outcomes whose record stays for the next start. */
const keep = new Set(["owner-alive", "left-running", "unreadable", "no-executor"]);

export class StepRecords {
  #owner?: Promise<StepRecord["owner"]>;
  #log?: StepLog;

  /** `dir` is `<cache-dir>/steps`. */
  constructor(readonly dir: string) {}

  /** Records a started step (a whole line of this process's log, or nothing). */
  async write(
    lease: { leaseId: string; runId: string; stepId: string },
    process: RecordedProcess,
    scratch?: string,
  ): Promise<void> {
    this.#owner ??= processStartTime(Deno.pid).then((s) => ({
      pid: Deno.pid,
      processStart: s ?? "",
    }));
    const owner = await this.#owner;
    const record: StepRecord = {
      version: 1,
      leaseId: lease.leaseId,
      runId: lease.runId,
      stepId: lease.stepId,
      bootId: await bootId(),
      owner,
      process,
      ...(scratch ? { scratch } : {}),
    };
    // Synchronous: one small append costs less than the thread hops of an async call, and the
    // step's start is reported only after it.
    (this.#log ??= new StepLog(this.dir, owner)).started(record);
  }

  /** The step ended: forget it (a mark that cannot be written costs only a reap later). */
  remove(leaseId: string): void {
    try {
      this.#log?.ended(leaseId);
    } catch {
      // The next worker process of this cache dir finds the step gone.
    }
  }

  /** This process stops: its log goes unless it records a step still running. */
  close(): void {
    this.#log?.close();
  }

  /**
   * Ends the steps a previous worker process of this cache dir left running,
   * each with the reap of the executor that started it (`executors` by name;
   * loopback never touches a pid reused by another process: it compares
   * start times; interrupt/terminate, then kill, confirmed gone; docker
   * removes the recorded container).
   * One report per record; a record is removed once nothing more can be
   * done about it, and stays for the next start while its step may run.
   */
  async reapLeftovers(executors: ReadonlyMap<string, Executor>): Promise<ReapReport[]> {
    const reports: ReapReport[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    const boot = await bootId();
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${this.dir}/${entry.name}`;
      if (entry.name.endsWith(".tmp")) {
        await Deno.remove(path).catch(() => {}); // a write cut short: it names no process
        continue;
      }
      if (entry.name.endsWith(".jsonl")) {
        if (path !== this.#log?.path) reports.push(...await reapLog(path, boot, executors));
        continue;
      }
      if (!entry.name.endsWith(".json")) continue;
      const record = await readRecord(path);
      if (!record) {
        reports.push({
          leaseId: decodeURIComponent(entry.name.slice(0, -5)),
          runId: "",
          stepId: "",
          pid: 0,
          pgid: 0,
          processStart: "",
          outcome: "unreadable",
          confirmed: false,
          actions: [`${path} is not a step record; left in place for an operator`],
        });
        continue;
      }
      const report = await reapOne(record, boot, executors);
      if (!keep.has(report.outcome)) {
        await Deno.remove(path).catch(() => {});
        if (record.scratch) await Deno.remove(record.scratch, { recursive: true }).catch(() => {});
      }
      reports.push(report);
    }
    return reports;
  }
}

async function reapOne(
  r: StepRecord,
  boot: string,
  executors: ReadonlyMap<string, Executor>,
): Promise<ReapReport> {
  const p = r.process;
  const base = reportBase(r);
  const executor = executors.get(p.executor);
  if (!executor) {
    return {
      ...base,
      outcome: "no-executor",
      confirmed: false,
      actions: [`recorded by the ${p.executor} executor, which this worker does not have; kept`],
    };
  }
  if (p.containerId) return await reapContainer(r, base, boot, executor);
  if (!boot || r.bootId !== boot) {
    return {
      ...base,
      outcome: "other-boot",
      confirmed: true,
      actions: ["recorded in another boot: its processes ended with it"],
    };
  }
  if (await isSameProcessAlive(r.owner.pid, r.owner.processStart)) {
    return {
      ...base,
      outcome: "owner-alive",
      confirmed: false,
      actions: [
        `the worker process ${r.owner.pid} that runs it is alive (another worker on this cache dir?); left alone`,
      ],
    };
  }
  const wasAlive = await isSameProcessAlive(p.pid, p.processStart);
  const actions = await executor.reap(p);
  const said = (pattern: RegExp) => actions.some((a) => pattern.test(a));
  if ((await isSameProcessAlive(p.pid, p.processStart)) || said(/still alive after SIGKILL/)) {
    return { ...base, outcome: "left-running", confirmed: false, actions };
  }
  if (said(/cannot be told|cannot tell|not loopback|not a valid pid/)) {
    // No later start can prove more: the record is dropped, the report says why.
    return { ...base, outcome: "unprovable", confirmed: false, actions };
  }
  const outcome = wasAlive || said(/confirmed/)
    ? "stopped"
    : said(/pid was reused/)
    ? "reused"
    : "gone";
  return { ...base, outcome, confirmed: true, actions };
}

/**
 * A container's id is never reused, so no start time needs comparing; and
 * a container outlives a reboot (stopped, not removed), so a record of
 * another boot is reaped too. Only a live owner (another worker process on
 * this cache dir, in this boot) keeps it.
 */
async function reapContainer(
  r: StepRecord,
  base: Omit<ReapReport, "outcome" | "confirmed" | "actions">,
  boot: string,
  executor: Executor,
): Promise<ReapReport> {
  if (boot && r.bootId === boot && await isSameProcessAlive(r.owner.pid, r.owner.processStart)) {
    return {
      ...base,
      outcome: "owner-alive",
      confirmed: false,
      actions: [`the worker process ${r.owner.pid} that runs it is alive; left alone`],
    };
  }
  const actions = await executor.reap(r.process);
  const said = (pattern: RegExp) => actions.some((a) => pattern.test(a));
  if (said(/ removed$/)) return { ...base, outcome: "stopped", confirmed: true, actions };
  if (said(/already gone/)) return { ...base, outcome: "gone", confirmed: true, actions };
  return { ...base, outcome: "left-running", confirmed: false, actions };
}

/**
 * Reaps the running steps of another worker process's log. While that
 * process lives (two workers on one cache dir) it still appends to the log:
 * nothing is done. Else the log is removed, or rewritten with the records
 * that must stay for the next start.
 */
async function reapLog(
  path: string,
  boot: string,
  executors: ReadonlyMap<string, Executor>,
): Promise<ReapReport[]> {
  const text = await Deno.readTextFile(path).catch(() => undefined);
  if (text === undefined) return [];
  const records = runningInLog(text).filter((r) => validRecord(r));
  const owner = stepLogOwner(path.slice(path.lastIndexOf("/") + 1));
  if (owner && await isSameProcessAlive(owner.pid, owner.processStart) === true) {
    return records.map((r) => ({
      ...reportBase(r),
      outcome: "owner-alive",
      confirmed: false,
      actions: [`the worker process ${owner.pid} that runs it is alive; left alone`],
    }));
  }
  const reports: ReapReport[] = [];
  const kept: StepRecord[] = [];
  for (const record of records) {
    const report = await reapOne(record, boot, executors);
    reports.push(report);
    if (keep.has(report.outcome)) kept.push(record);
    else if (record.scratch) await Deno.remove(record.scratch, { recursive: true }).catch(() => {});
  }
  if (kept.length === 0) {
    await Deno.remove(path).catch(() => {});
  } else {
    writeStepLog(path, kept);
  }
  return reports;
}

function reportBase(r: StepRecord): Omit<ReapReport, "outcome" | "confirmed" | "actions"> {
  const p = r.process;
  return {
    leaseId: r.leaseId,
    runId: r.runId,
    stepId: r.stepId,
    pid: p.pid,
    pgid: p.pgid,
    processStart: p.processStart,
  };
}

async function readRecord(path: string): Promise<StepRecord | undefined> {
  try {
    return validRecord(JSON.parse(await Deno.readTextFile(path)));
  } catch {
    return undefined;
  }
}

/** The record, when it has what a reap needs. */
function validRecord(value: unknown): StepRecord | undefined {
  const r = value as StepRecord;
  const p = r?.process;
  if (
    r?.version !== 1 || typeof r.leaseId !== "string" || typeof p?.pid !== "number" ||
    typeof p.pgid !== "number" || typeof p.processStart !== "string" ||
    typeof r.owner?.pid !== "number"
  ) return undefined;
  return r;
}
