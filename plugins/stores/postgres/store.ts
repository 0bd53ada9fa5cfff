// The PostgreSQL store: RunStore on a pg.Pool, each concept in its own file
// (runs.ts, listing.ts, locks.ts, leases.ts, tokens.ts, data.ts, prune.ts).
// Every write is one statement or one transaction; the conditional writes
// are row-level compare-and-swaps, so any number of processes may share it.
import {
  bindWorkerRecord,
  type InstanceRegistry,
  revokeApiRecord,
  revokeWorkerRecord,
  type RunStore,
} from "../../../runtime/mod.ts";
import type pg from "pg";
import type { Db } from "./db.ts";
import { PgRuns } from "./runs.ts";
import { listRuns } from "./listing.ts";
import { listLocks, releaseLock, releaseLocks, tryAcquireLock } from "./locks.ts";
import { PgLeases } from "./leases.ts";
import { apiTokenRecords, workerTokenRecords } from "./tokens.ts";
import { PgData } from "./data.ts";
import { pruneRun } from "./prune.ts";
import { pgInstances } from "./instances.ts";
import { ChangeListener } from "./listen.ts";

export class PostgresRunStore implements RunStore {
  private readonly runs: PgRuns;
  private readonly leases: PgLeases;
  private readonly data: PgData;
  private readonly apiTokens;
  private readonly workerTokens;
  private closing?: Promise<void>;
  /** Several machines share this store: `swamp serve` instances register here (0027). */
  readonly instances: InstanceRegistry;
  private listener?: ChangeListener;

  /** `listenConfig`: how the listening connection connects (subscribe); without it, none. */
  constructor(
    private readonly db: Db,
    readonly spoolDir?: string,
    private readonly listenConfig?: () => pg.ClientConfig,
  ) {
    this.runs = new PgRuns(db);
    this.leases = new PgLeases(db);
    this.data = new PgData(db);
    this.apiTokens = apiTokenRecords(db);
    this.workerTokens = workerTokenRecords(db);
    this.instances = pgInstances(db);
  }

  createRun: RunStore["createRun"] = (first, summary, snapshot) =>
    this.runs.createRun(first, summary, snapshot);
  append: RunStore["append"] = (request) => this.runs.append(request);
  loadRun: RunStore["loadRun"] = (runId) => this.runs.loadRun(runId);
  readEvents: RunStore["readEvents"] = (runId, afterSeq, limit) =>
    this.runs.readEvents(runId, afterSeq, limit);
  findRunIds: RunStore["findRunIds"] = (prefix, limit) => this.runs.findRunIds(prefix, limit);
  listRuns: RunStore["listRuns"] = (query) => listRuns(this.db, query);
  listActiveRuns: RunStore["listActiveRuns"] = () => this.runs.listActiveRuns();
  appendLogs: RunStore["appendLogs"] = (runId, lines) => this.runs.appendLogs(runId, lines);
  readLogs: RunStore["readLogs"] = (runId, afterSeq, limit, stepId) =>
    this.runs.readLogs(runId, afterSeq, limit, stepId);

  tryAcquireLock: RunStore["tryAcquireLock"] = (name, runId) =>
    tryAcquireLock(this.db, name, runId);
  releaseLock: RunStore["releaseLock"] = (name, runId) => releaseLock(this.db, name, runId);
  releaseLocks: RunStore["releaseLocks"] = (runId) => releaseLocks(this.db, runId);
  listLocks: RunStore["listLocks"] = () => listLocks(this.db);

  createApiToken: RunStore["createApiToken"] = (record) => this.apiTokens.create(record);
  getApiToken: RunStore["getApiToken"] = (name) => this.apiTokens.get(name);
  listApiTokens: RunStore["listApiTokens"] = () => this.apiTokens.list();
  revokeApiToken: RunStore["revokeApiToken"] = (name, time) =>
    this.apiTokens.change(name, (record) => revokeApiRecord(record, time));

  createWorkerToken: RunStore["createWorkerToken"] = (record) => this.workerTokens.create(record);
  getWorkerToken: RunStore["getWorkerToken"] = (name) => this.workerTokens.get(name);
  listWorkerTokens: RunStore["listWorkerTokens"] = () => this.workerTokens.list();
  revokeWorkerToken: RunStore["revokeWorkerToken"] = (name, time) =>
    this.workerTokens.change(name, (record) => revokeWorkerRecord(record, time));
  bindWorkerToken: RunStore["bindWorkerToken"] = (name, machineId, time) =>
    this.workerTokens.change(name, (record) => bindWorkerRecord(record, machineId, time));

  acquireLease: RunStore["acquireLease"] = (request) => this.leases.acquire(request);
  getLease: RunStore["getLease"] = (id) => this.leases.current(id);
  renewLeases: RunStore["renewLeases"] = (workerId, ids, expireTime) =>
    this.leases.renew(workerId, ids, expireTime);
  // "Has written" decides between re-dispatch and failure: it must outlive the machine, so it is
  // committed with synchronous_commit on even where the server turned it off.
  markLeaseWritten: RunStore["markLeaseWritten"] = (id) =>
    this.leases.update(id, "has_written = true", true);
  releaseLease: RunStore["releaseLease"] = (id) => this.leases.update(id, "state = 'released'");
  listLeases: RunStore["listLeases"] = (filter) => this.leases.list(filter);

  putData: RunStore["putData"] = (draft) => this.data.put(draft);
  getData: RunStore["getData"] = (model, name, version) => this.data.get(model, name, version);
  listDataVersions: RunStore["listDataVersions"] = (model, name) => this.data.versions(model, name);
  listData: RunStore["listData"] = (query) => this.data.list(query);

  pruneRun: RunStore["pruneRun"] = (runId, rule) => pruneRun(this.db, runId, rule);

  // LISTEN/NOTIFY: each write above notifies in its transaction (listen.ts).
  subscribe: NonNullable<RunStore["subscribe"]> = (runId, onChange) => {
    if (!this.listenConfig) {
      return Promise.reject(new Error("this store was opened without LISTEN"));
    }
    this.listener ??= new ChangeListener(this.listenConfig);
    return this.listener.subscribe(runId, onChange);
  };

  /** Ends the pool (every connection) and the listening one, so the process can exit; safe to call twice. */
  close(): Promise<void> {
    return this.closing ??= Promise.all([this.listener?.close(), this.db.end()]).then(() => {});
  }
}
