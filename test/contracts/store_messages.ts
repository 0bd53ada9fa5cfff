// Message builders shared by the store contract and its writer subprocess.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import { ApiTokenSchema, ApiTokenState, Role } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import {
  type LogLine,
  LogLineSchema,
  type RunEvent,
  RunEventSchema,
} from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  RunStatus,
  type RunSummary,
  RunSummarySchema,
} from "../../proto/gen/swamp/v1/run_pb.ts";
import { WorkerTokenSchema, WorkerTokenState } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { StoredApiToken, StoredWorkerToken } from "../../runtime/mod.ts";

export { ApiTokenState, RunStatus, WorkerTokenState };

export interface RunShape {
  id?: string;
  workflow?: string;
  status?: RunStatus;
  createMs?: number;
}

/** A UUID, optionally forced to start with `prefix` (hex), for prefix lookups. */
export function runId(prefix = ""): string {
  const uuid = crypto.randomUUID();
  return prefix + uuid.slice(prefix.length);
}

export function summary(shape: Required<RunShape>): RunSummary {
  return create(RunSummarySchema, {
    id: shape.id,
    workflowName: shape.workflow,
    status: shape.status,
    actor: "tester",
    createTime: timestampFromMs(shape.createMs),
    attempt: 1,
  });
}

/** The three things createRun takes, for a run with `shape`. */
export function newRun(shape: RunShape = {}): {
  first: RunEvent;
  summary: RunSummary;
  snapshot: Run;
  shape: Required<RunShape>;
} {
  const full: Required<RunShape> = {
    id: shape.id ?? runId(),
    workflow: shape.workflow ?? "deploy",
    status: shape.status ?? RunStatus.PENDING,
    createMs: shape.createMs ?? Date.now(),
  };
  const snapshot = create(RunSchema, {
    id: full.id,
    workflowName: full.workflow,
    status: full.status,
    attempt: 1,
    actor: "tester",
    createTime: timestampFromMs(full.createMs),
    revision: 1n,
  });
  const first = create(RunEventSchema, {
    runId: full.id,
    seq: 1n,
    time: timestampFromMs(full.createMs),
    actor: "tester",
    payload: { case: "runCreated", value: { run: snapshot } },
  });
  return { first, summary: summary(full), snapshot, shape: full };
}

/** An event with `seq`; `reason` lets a test tell writers and events apart. */
export function event(id: string, seq: bigint, reason = "", actor = "tester"): RunEvent {
  return create(RunEventSchema, {
    runId: id,
    seq,
    time: timestampFromMs(Date.now()),
    actor,
    reason,
    payload: { case: "heartbeat", value: { time: timestampFromMs(Date.now()) } },
  });
}

/** Events seq from+1 … from+count. */
export function events(id: string, from: bigint, count: number, reason = ""): RunEvent[] {
  return Array.from({ length: count }, (_, i) => event(id, from + BigInt(i + 1), reason));
}

/** The record a writer would snapshot after `revision` events. */
export function snapshotAt(shape: Required<RunShape>, revision: bigint): Run {
  return create(RunSchema, {
    id: shape.id,
    workflowName: shape.workflow,
    status: shape.status,
    attempt: 1,
    actor: "tester",
    createTime: timestampFromMs(shape.createMs),
    revision,
  });
}

export function logLine(stepId: string, text: string): LogLine {
  return create(LogLineSchema, {
    time: timestampFromMs(Date.now()),
    stepId,
    stream: "stdout",
    text,
    seq: 999n, // ignored by the store
  });
}

export interface TokenShape {
  name: string;
  createdBy?: string;
  role?: Role;
  createMs?: number;
  /** Omitted: the token never expires. */
  expireMs?: number;
}

/** A token as a store keeps it: state unset, the hash of a fresh random secret. */
export function storedToken(shape: TokenShape): StoredApiToken {
  const createMs = shape.createMs ?? 1_700_000_000_000;
  return {
    token: create(ApiTokenSchema, {
      name: shape.name,
      role: shape.role ?? Role.OPERATOR,
      createTime: timestampFromMs(createMs),
      expireTime: shape.expireMs === undefined ? undefined : timestampFromMs(shape.expireMs),
      createdBy: shape.createdBy ?? "tester",
    }),
    secretHash: createHash("sha256").update(crypto.randomUUID()).digest("hex"),
  };
}

export interface WorkerTokenShape {
  name: string;
  createdBy?: string;
  labels?: Record<string, string>;
  createMs?: number;
  /** Default: eight hours after createMs. */
  expireMs?: number;
}

/** An unused worker token as a store keeps it: the hash of a fresh random secret. */
export function storedWorkerToken(shape: WorkerTokenShape): StoredWorkerToken {
  const createMs = shape.createMs ?? 1_700_000_000_000;
  return {
    token: create(WorkerTokenSchema, {
      name: shape.name,
      labels: shape.labels ?? {},
      createTime: timestampFromMs(createMs),
      expireTime: timestampFromMs(shape.expireMs ?? createMs + 8 * 3_600_000),
      state: WorkerTokenState.UNUSED,
      createdBy: shape.createdBy ?? "tester",
    }),
    secretHash: createHash("sha256").update(crypto.randomUUID()).digest("hex"),
  };
}
