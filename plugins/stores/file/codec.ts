// How messages look on disk: protobuf JSON (the canonical JSON mapping), so
// every file the store writes can be read with `cat` and `jq`.
import {
  fromJson,
  fromJsonString,
  type JsonObject,
  toJson,
  toJsonString,
} from "@bufbuild/protobuf";
import {
  type LogLine,
  LogLineSchema,
  type RunEvent,
  RunEventSchema,
} from "../../../proto/gen/swamp/v1/event_pb.ts";
import {
  type Run,
  RunSchema,
  RunStatus,
  type RunSummary,
  RunSummarySchema,
} from "../../../proto/gen/swamp/v1/run_pb.ts";

export const encodeEvent = (event: RunEvent): string => toJsonString(RunEventSchema, event);
export const decodeEvent = (json: unknown): RunEvent =>
  fromJson(RunEventSchema, json as JsonObject, { ignoreUnknownFields: true });

export const encodeRun = (run: Run): string => toJsonString(RunSchema, run);
export const decodeRun = (text: string): Run =>
  fromJsonString(RunSchema, text, { ignoreUnknownFields: true });

/** A log line with the seq the store gave it. */
export function encodeLogLine(line: LogLine, seq: bigint): string {
  const json = toJson(LogLineSchema, line) as JsonObject;
  json.seq = seq.toString();
  return JSON.stringify(json);
}
export const decodeLogLine = (json: unknown): LogLine =>
  fromJson(LogLineSchema, json as JsonObject, { ignoreUnknownFields: true });

/** summary.json: the run's listing entry and its slot in the run index. */
export interface SummaryFile {
  slot: number;
  summary: RunSummary;
}

export function encodeSummaryFile(slot: number, summary: RunSummary): string {
  return JSON.stringify({ slot, summary: toJson(RunSummarySchema, summary) }) + "\n";
}

export function decodeSummaryFile(text: string): SummaryFile {
  const json = JSON.parse(text) as { slot: number; summary: JsonObject };
  return {
    slot: json.slot,
    summary: fromJson(RunSummarySchema, json.summary, { ignoreUnknownFields: true }),
  };
}

const activeStatuses: ReadonlySet<RunStatus> = new Set([
  RunStatus.PENDING,
  RunStatus.RUNNING,
  RunStatus.SUSPENDED,
  RunStatus.CANCELLING,
]);

/** Not terminal: listed by listActiveRuns. */
export function isActive(status: RunStatus): boolean {
  return activeStatuses.has(status);
}
