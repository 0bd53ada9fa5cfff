import { UsageError } from "./types.ts";

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `90s`, `15m`, `8h`, `30d` (or a sum such as `1h30m`) in milliseconds; usage error otherwise. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.trim().matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const total = parts.reduce((sum, [, n, unit]) => sum + Number(n) * unitMs[unit], 0);
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim() || total <= 0) {
    throw new UsageError(`${flag} takes a duration such as 90s, 15m, 8h or 30d, not \`${text}\``);
  }
  return total;
}
