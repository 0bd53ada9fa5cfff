// Leases as files: leases/<encoded run id>.jsonl is the run's lease log
// (lease_log.ts), whose last line for a step is that step's newest lease
// (runtime/ports/leases.ts). Every change is a read, a decision and one
// appended line under an exclusive flock on leases/.lock, so two processes
// taking a lease of one step get different epochs and the later one stays.
// Marking a lease written is flushed to disk; the other changes are not (see
// write()). Decision 0035.
//
// Before that decision each step's lease was its own file,
// leases/<encoded run id>/<encoded step id>.json, rewritten by rename. Those
// files are still read (a step with no line in its run's log), never written:
// a change of such a lease is appended to the log, which then has the newest.
import { type AcquireLease, type Lease, nextLease, parseLeaseId } from "../../../runtime/mod.ts";
import { promised, readTextIfExists } from "./fsio.ts";
import { LeaseLogs } from "./lease_log.ts";
import { encodedFileName, type Layout } from "./paths.ts";

interface LeaseJson {
  id: string;
  runId: string;
  stepId: string;
  attempt: number;
  epoch: string;
  workerId: string;
  createMs: number;
  expireMs: number;
  hasWritten: boolean;
  state: Lease["state"];
}

function encode(lease: Lease): string {
  const json: LeaseJson = {
    id: lease.id,
    runId: lease.runId,
    stepId: lease.stepId,
    attempt: lease.attempt,
    epoch: String(lease.epoch),
    workerId: lease.workerId,
    createMs: lease.createTime.getTime(),
    expireMs: lease.expireTime.getTime(),
    hasWritten: lease.hasWritten,
    state: lease.state,
  };
  return JSON.stringify(json) + "\n";
}

function decode(text: string): Lease {
  const json = JSON.parse(text) as LeaseJson;
  return {
    id: json.id,
    runId: json.runId,
    stepId: json.stepId,
    attempt: json.attempt,
    epoch: BigInt(json.epoch),
    workerId: json.workerId,
    createTime: new Date(json.createMs),
    expireTime: new Date(json.expireMs),
    hasWritten: json.hasWritten,
    state: json.state,
  };
}

const runName = (runId: string) => encodedFileName(runId).slice(0, -".json".length);
const logSuffix = ".jsonl";
const byRunThenStep = (a: Lease, b: Lease) =>
  a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.stepId < b.stepId ? -1 : 1;

export class LeaseFiles {
  private readonly root: string;
  /** leases/.lock, opened once: a lease change is on a remote step's critical path. */
  private lockFile?: Deno.FsFile;
  private readonly logs: LeaseLogs;
  /**
   * Runs with a directory of per-step lease files (the layout before 0035),
   * listed once: this version never makes one.
   */
  private legacyRuns?: Set<string>;

  constructor(layout: Layout, sync: boolean) {
    this.root = `${layout.root}/leases`;
    this.logs = new LeaseLogs(encode, decode, sync);
  }

  private logPath(runId: string): string {
    return `${this.root}/${runName(runId)}${logSuffix}`;
  }

  /** The step's newest lease, checked to be that step's (a hashed long name could be another's). */
  private newest(runId: string, stepId: string): Lease | undefined {
    const logged = this.logs.leases(this.logPath(runId)).get(stepId);
    const lease = logged ?? this.legacy(runId, stepId);
    // A copy: the log's own stays as read until a change is appended.
    return lease?.runId === runId && lease.stepId === stepId ? { ...lease } : undefined;
  }

  /** The lease `id` names while it is its step's newest. */
  private current(id: string): Lease | undefined {
    const parts = parseLeaseId(id);
    if (!parts) return undefined;
    const lease = this.newest(parts.runId, parts.stepId);
    // The whole id, nonce included: a lease lost in a crash may share its epoch with a newer one.
    return lease?.id === id ? lease : undefined;
  }

  /**
   * `durable`: on disk before this returns (a step that wrote). Anything else
   * is as durable as the page cache, which outlives this process: what a
   * machine crash loses is either harmless (a renewal, a release) or fenced
   * by the lease id's nonce (an acquire; runtime/ports/leases.ts).
   */
  private write(lease: Lease, durable = false): void {
    this.logs.append(this.logPath(lease.runId), lease, durable);
  }

  /** Runs `work` holding the exclusive lock across synchronous calls only. */
  private locked<T>(work: () => T): Promise<T> {
    return promised(() => this.lockedNow(work));
  }

  private lockedNow<T>(work: () => T): T {
    if (!this.lockFile) {
      Deno.mkdirSync(this.root, { recursive: true });
      this.lockFile = Deno.openSync(`${this.root}/.lock`, {
        read: true,
        write: true,
        create: true,
      });
    }
    const lock = this.lockFile;
    lock.lockSync(true);
    try {
      return work();
    } finally {
      lock.unlockSync();
    }
  }

  /** Deletes every lease of a run (a pruned run), synchronously, under the lease lock. */
  removeRunNow(runId: string): void {
    const path = this.logPath(runId);
    this.lockedNow(() => {
      removeAll(path);
      removeAll(`${this.root}/${runName(runId)}`);
      this.logs.forget(path);
      this.legacyRuns?.delete(runName(runId));
    });
  }

  close(): void {
    this.lockFile?.close();
    this.lockFile = undefined;
  }

  acquire(request: AcquireLease): Promise<Lease> {
    return this.locked(() => {
      const lease = nextLease(request, this.newest(request.runId, request.stepId)?.epoch);
      this.write(lease);
      return lease;
    });
  }

  get(id: string): Promise<Lease | undefined> {
    return promised(() => this.current(id));
  }

  renew(workerId: string, ids: readonly string[], expireTime: Date): Promise<string[]> {
    return this.locked(() => {
      const renewed: string[] = [];
      for (const id of ids) {
        const lease = this.current(id);
        if (lease?.state !== "active" || lease.workerId !== workerId) continue;
        lease.expireTime = expireTime;
        this.write(lease);
        renewed.push(id);
      }
      return renewed;
    });
  }

  /** Applies `change` to the lease when it is current and active; false otherwise. */
  update(id: string, change: (lease: Lease) => void, durable = false): Promise<boolean> {
    return this.locked(() => {
      const lease = this.current(id);
      if (lease?.state !== "active") return false;
      change(lease);
      this.write(lease, durable);
      return true;
    });
  }

  list(filter: { runId?: string; workerId?: string; activeOnly?: boolean } = {}): Promise<Lease[]> {
    return promised(() => {
      const names = filter.runId !== undefined
        ? [runName(filter.runId)]
        : this.entries(this.root).filter((n) => n.endsWith(logSuffix))
          .map((n) => n.slice(0, -logSuffix.length));
      const byStep = new Map<string, Lease>();
      const key = (lease: Lease) => `${lease.runId}\n${lease.stepId}`;
      const legacy = this.legacyRunNames();
      const legacyNames = filter.runId !== undefined ? names.filter((n) => legacy.has(n)) : legacy;
      for (const name of legacyNames) {
        for (const lease of this.legacyLeases(name)) byStep.set(key(lease), lease);
      }
      for (const name of names) {
        for (const lease of this.logs.leases(`${this.root}/${name}${logSuffix}`).values()) {
          byStep.set(key(lease), { ...lease });
        }
      }
      return [...byStep.values()].filter((lease) =>
        (filter.runId === undefined || lease.runId === filter.runId) &&
        (filter.workerId === undefined || lease.workerId === filter.workerId) &&
        (!filter.activeOnly || lease.state === "active")
      ).sort(byRunThenStep);
    });
  }

  /** A step's lease file of the layout before 0035, when its run has such a directory. */
  private legacy(runId: string, stepId: string): Lease | undefined {
    const name = runName(runId);
    if (!this.legacyRunNames().has(name)) return undefined;
    const text = readTextIfExists(`${this.root}/${name}/${encodedFileName(stepId)}`);
    return text === undefined ? undefined : decode(text);
  }

  /** The runs with a lease directory of the old layout. */
  private legacyRunNames(): Set<string> {
    if (!this.legacyRuns) {
      this.legacyRuns = new Set();
      try {
        for (const entry of Deno.readDirSync(this.root)) {
          if (entry.isDirectory) this.legacyRuns.add(entry.name);
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return this.legacyRuns;
  }

  private legacyLeases(name: string): Lease[] {
    const out: Lease[] = [];
    for (const file of this.entries(`${this.root}/${name}`)) {
      if (!file.endsWith(".json")) continue;
      const text = readTextIfExists(`${this.root}/${name}/${file}`);
      if (text !== undefined) out.push(decode(text));
    }
    return out;
  }

  /** The names in a directory (none when it does not exist), dot files left out. */
  private entries(dir: string): string[] {
    try {
      return [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((n) =>
        !n.startsWith(".")
      );
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  }
}

/** Removes a file or a directory with what is in it; one already gone is fine. */
function removeAll(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
