import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";

// Times and durations as people read them in run listings.

export function duration(start?: Timestamp, end?: Timestamp, now = new Date()): string {
  if (!start) return "";
  const ms = (end ? timestampDate(end) : now).getTime() - timestampDate(start).getTime();
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}

export function when(time?: Timestamp): string {
  return time ? timestampDate(time).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
}
