/// <reference path="./node_sqlite.d.ts" />
// Every statement the store runs, prepared once per connection.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { RunStatus } from "../../../proto/gen/swamp/v1/run_pb.ts";

const activeStatuses = [
  RunStatus.PENDING,
  RunStatus.RUNNING,
  RunStatus.SUSPENDED,
  RunStatus.CANCELLING,
];

const sql = {
  head: "SELECT last_seq, last_log_seq, workflow, status FROM runs WHERE id = ?",
  insertRun: "INSERT INTO runs (id, last_seq, create_ms, workflow, status, summary) " +
    "VALUES (?, ?, ?, ?, ?, ?)",
  updateRun: "UPDATE runs SET last_seq = ?, workflow = ?, status = ?, summary = ? WHERE id = ?",
  // Most appends change neither column: naming them would rewrite three indexes' pages for nothing.
  updateRunSummary: "UPDATE runs SET last_seq = ?, summary = ? WHERE id = ?",
  updateLogSeq: "UPDATE runs SET last_log_seq = ? WHERE id = ?",
  insertEvent: "INSERT INTO events (run_id, seq, data) VALUES (?, ?, ?)",
  putSnapshot: "INSERT OR REPLACE INTO snapshots (run_id, revision, data) VALUES (?, ?, ?)",
  snapshot: "SELECT data FROM snapshots WHERE run_id = ?",
  version: "SELECT s.revision, r.last_seq FROM snapshots s JOIN runs r ON r.id = s.run_id " +
    "WHERE s.run_id = ?",
  events: "SELECT data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  findIds: "SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT ?",
  active: `SELECT summary FROM runs WHERE status IN (${activeStatuses.join(", ")}) ` +
    "ORDER BY create_ms DESC, id DESC",
  insertLog: "INSERT INTO logs (run_id, seq, step_id, data) VALUES (?, ?, ?, ?)",
  logs: "SELECT data FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  stepLogs: "SELECT data FROM logs WHERE run_id = ? AND step_id = ? AND seq > ? " +
    "ORDER BY seq LIMIT ?",
  lock: "SELECT name, run_id, since_ms FROM locks WHERE name = ?",
  insertLock: "INSERT INTO locks (name, run_id, since_ms) VALUES (?, ?, ?)",
  deleteLock: "DELETE FROM locks WHERE name = ? AND run_id = ?",
  runLocks: "SELECT name FROM locks WHERE run_id = ? ORDER BY name",
  deleteRunLocks: "DELETE FROM locks WHERE run_id = ?",
  allLocks: "SELECT name, run_id, since_ms FROM locks ORDER BY name",
};

export type Statements = Record<keyof typeof sql, StatementSync>;

export function prepareStatements(db: DatabaseSync): Statements {
  const out = {} as Statements;
  for (const [name, text] of Object.entries(sql)) out[name as keyof typeof sql] = db.prepare(text);
  return out;
}
