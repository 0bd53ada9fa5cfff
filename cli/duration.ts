import { parseDurationText } from "../runtime/mod.ts";
import { UsageError } from "./types.ts";

/** `90s`, `15m`, `8h`, `30d` (or a sum such as `1h30m`) in milliseconds; usage error otherwise. */
export function parseDuration(text: string, flag: string): number {
  const ms = parseDurationText(text);
  if (ms === undefined || text.trim() !== text) {
    throw new UsageError(`${flag} takes a duration such as 90s, 15m, 8h or 30d, not \`${text}\``);
  }
  return ms;
}
