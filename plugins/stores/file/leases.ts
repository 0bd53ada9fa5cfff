// Leases as files: leases/<encoded run id>/<encoded step id>.json holds the
// newest lease of that step (runtime/ports/leases.ts). Every change is a read,
// a decision and a rewrite (temporary file + rename) under an exclusive flock
// on leases/.lock, so two processes taking a lease of one step get different
// epochs and the later one stays. Marking a lease written is flushed to disk;
// the other changes are not (see write()).
import { type AcquireLease, type Lease, nextLease, parseLeaseId } from "../../../runtime/mod.ts";
import { promised, readTextIfExists, syncDir, writeFileAtomic } from "./fsio.ts";
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
    ...lease,
    epoch: String(lease.epoch),
    createMs: lease.createTime.getTime(),
    expireMs: lease.expireTime.getTime(),
  };
  delete (json as unknown as Record<string, unknown>).createTime;
  delete (json as unknown as Record<string, unknown>).expireTime;
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

const dirName = (runId: string) => encodedFileName(runId).slice(0, -".json".length);
const byRunThenStep = (a: Lease, b: Lease) =>
  a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.stepId < b.stepId ? -1 : 1;

export class LeaseFiles {
  private readonly root: string;
  /** leases/.lock, opened once: a lease change is on a remote step's critical path. */
  private lockFile?: Deno.FsFile;
  /** Run directories this process made or saw, so a change need not make them again. */
  private readonly made = new Set<string>();

  constructor(layout: Layout, private readonly sync: boolean) {
    this.root = `${layout.root}/leases`;
  }

  private path(runId: string, stepId: string): string {
    return `${this.root}/${dirName(runId)}/${encodedFileName(stepId)}`;
  }

  /** The step's newest lease, checked to be that step's (a hashed long name could be another's). */
  private newest(runId: string, stepId: string): Lease | undefined {
    const text = readTextIfExists(this.path(runId, stepId));
    const lease = text === undefined ? undefined : decode(text);
    return lease?.runId === runId && lease.stepId === stepId ? lease : undefined;
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
    const dir = `${this.root}/${dirName(lease.runId)}`;
    const path = this.path(lease.runId, lease.stepId);
    const sync = this.sync && durable;
    if (!this.made.has(dir)) {
      Deno.mkdirSync(dir, { recursive: true });
      this.made.add(dir);
    }
    try {
      writeFileAtomic(path, encode(lease), sync);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      // The run's directory was removed since this process made it.
      Deno.mkdirSync(dir, { recursive: true });
      writeFileAtomic(path, encode(lease), sync);
    }
    if (sync) syncDir(dir);
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
    const dir = `${this.root}/${dirName(runId)}`;
    this.lockedNow(() => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      this.made.delete(dir);
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
      const dirs = filter.runId !== undefined ? [dirName(filter.runId)] : this.entries(this.root);
      const out: Lease[] = [];
      for (const dir of dirs) {
        for (const name of this.entries(`${this.root}/${dir}`)) {
          if (!name.endsWith(".json")) continue;
          const text = readTextIfExists(`${this.root}/${dir}/${name}`);
          if (text === undefined) continue;
          const lease = decode(text);
          if (filter.runId !== undefined && lease.runId !== filter.runId) continue;
          if (filter.workerId !== undefined && lease.workerId !== filter.workerId) continue;
          if (filter.activeOnly && lease.state !== "active") continue;
          out.push(lease);
        }
      }
      return out.sort(byRunThenStep);
    });
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
