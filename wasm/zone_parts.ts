// The one host function the sandbox can call: calendar fields of an instant in
// a named time zone, for CEL's timestamp accessors (QuickJS has no time-zone
// database). It is pure: two validated values in, six numbers out, nothing
// of the host's state (files, environment, clock, network) is reachable.

const ZONE = /^[A-Za-z0-9_+\-\/]{1,64}$/;
const MAX_FORMATTERS = 64;
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      f = null; // not a zone the host knows
    }
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** "year,month,day,hour,minute,second" (month 1-12), or "" for an unknown zone. */
export function zoneParts(zone: unknown, epochMs: unknown): string {
  if (typeof zone !== "string" || !ZONE.test(zone)) return "";
  if (typeof epochMs !== "number" || !Number.isFinite(epochMs)) return "";
  const f = formatter(zone);
  if (!f) return "";
  const date = new Date(epochMs);
  if (Number.isNaN(date.getTime())) return "";
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(date)) out[p.type] = p.value;
  return [out.year, out.month, out.day, out.hour, out.minute, out.second].join(",");
}

let warmed = false;

/**
 * Loads the host's time-zone data once, outside any expression's deadline:
 * the first named zone a process formats initialises ICU, which costs more
 * CPU than an expression's whole budget (seen in CI).
 */
export function warmZones(): void {
  if (warmed) return;
  warmed = true;
  zoneParts("America/New_York", 0);
}
