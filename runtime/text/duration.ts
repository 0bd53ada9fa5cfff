// The one duration grammar of swamp: workflow files (`timeout: 90s`,
// `retry.backoff: 1m30s`) and CLI flags (`--timeout 5m`) read durations the
// same way, so a value that works in one place works in the other.

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The text form: one or more `<number><unit>` with units ms, s, m, h, d (`90s`, `1h30m`, `1.5s`). */
export const durationPattern = /^(\d+(\.\d+)?(ms|s|m|h|d))+$/;

/** Milliseconds of a duration text, or undefined when it is not one or is zero. */
export function parseDurationText(text: string): number | undefined {
  const trimmed = text.trim();
  if (!durationPattern.test(trimmed)) return undefined;
  let total = 0;
  for (const [, n, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(n) * unitMs[unit];
  }
  return total > 0 ? Math.round(total) : undefined;
}

/** A workflow file's duration (a number of seconds or a duration text) in milliseconds. */
export function durationMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value * 1000;
  return parseDurationText(value);
}

/** Milliseconds as the shortest duration text that reads back the same (`1500` → `1.5s`). */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
