// The two run writes as plain synchronous steps, to be called inside a write
// transaction: one per call from the store, or many per transaction from
// the bulk loader.
import { toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type RunEvent, RunEventSchema } from "../../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  type RunSummary,
  RunSummarySchema,
} from "../../../proto/gen/swamp/v1/run_pb.ts";
import { type AppendRequest, StoreConflict, StoreNotFound } from "../../../runtime/mod.ts";

import type { Statements } from "./statements.ts";

export function lastSeq(s: Statements, runId: string): bigint | undefined {
  const row = s.head.get(runId);
  return row ? BigInt(row.last_seq as number) : undefined;
}

export function insertRun(
  s: Statements,
  first: RunEvent,
  summary: RunSummary,
  snapshot: Run,
): void {
  const id = summary.id;
  const existing = lastSeq(s, id);
  if (existing !== undefined) throw new StoreConflict(id, 0n, existing);
  const createMs = summary.createTime ? timestampMs(summary.createTime) : Date.now();
  const encoded = toBinary(RunSummarySchema, summary);
  s.insertRun.run(id, 1, createMs, summary.workflowName, summary.status, encoded);
  s.insertEvent.run(id, 1, toBinary(RunEventSchema, first));
  s.putSnapshot.run(id, snapshot.revision, toBinary(RunSchema, snapshot));
}

export function appendEvents(s: Statements, request: AppendRequest): void {
  const { runId, expectedSeq, events, summary } = request;
  const head = s.head.get(runId);
  if (!head) throw new StoreNotFound(runId);
  const actual = BigInt(head.last_seq as number);
  if (actual !== expectedSeq) throw new StoreConflict(runId, expectedSeq, actual);
  for (const event of events) s.insertEvent.run(runId, event.seq, toBinary(RunEventSchema, event));
  const last = expectedSeq + BigInt(events.length);
  const encoded = toBinary(RunSummarySchema, summary);
  if (head.workflow === summary.workflowName && Number(head.status) === summary.status) {
    s.updateRunSummary.run(last, encoded, runId);
  } else {
    s.updateRun.run(last, summary.workflowName, summary.status, encoded, runId);
  }
  if (request.snapshot) {
    s.putSnapshot.run(runId, request.snapshot.revision, toBinary(RunSchema, request.snapshot));
  }
}
