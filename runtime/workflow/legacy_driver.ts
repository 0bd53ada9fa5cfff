// swamp's old `driver:` / `driverConfig:` fields chose where a step ran. This
// format says that with an `executor:` block (and placement fields for a
// remote worker), so a file that still carries them gets a diagnostic of its
// own, saying what to write instead, rather than a bare unknown-key.
import type * as z from "zod/mini";
import { type DiagnosticSink, formatPath, type PathSegment } from "../diagnostics/mod.ts";

type Issue = z.core.$ZodIssue;

/** The old keys, and where the migration note is. */
export const legacyDriverKeys = ["driver", "driverConfig"] as const;
const note = "docs/remote/concepts.md#migrating-from-driver-and-driverconfig";

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function where(path: readonly PathSegment[]): string {
  return path.length === 0 ? "the workflow" : `\`${formatPath(path)}\``;
}

/** What the block that replaces `driver: NAME` looks like. */
function replacement(driver: unknown): string {
  if (driver === "docker") {
    return "`executor: {type: docker, image: …}` (the keys `driverConfig` held go beside `type`)";
  }
  return "`executor: {type: loopback}` for a local process (the default, so you may drop it), " +
    "or `executor: {type: docker, image: …}` for a container (the keys `driverConfig` held go " +
    "beside `type`)";
}

/**
 * Reports each `driver` / `driverConfig` key among the unrecognized-key
 * issues as a `legacy-driver` diagnostic; returns the issues left for the
 * general report (unknown-key and the rest).
 */
export function reportLegacyDriver(
  sink: DiagnosticSink,
  data: unknown,
  issues: readonly Issue[],
): Issue[] {
  const rest: Issue[] = [];
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") {
      rest.push(issue);
      continue;
    }
    const legacy = issue.keys.filter((k) => (legacyDriverKeys as readonly string[]).includes(k));
    const others = issue.keys.filter((k) => !legacy.includes(k));
    if (others.length > 0) rest.push({ ...issue, keys: others });
    const path = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
    const owner = valueAt(data, path) as Record<string, unknown> | undefined;
    for (const key of legacy) {
      sink.add({
        rule: "legacy-driver",
        message: `\`${key}\` in ${where(path)} is swamp's old way to say where a step runs; ` +
          "this format uses an `executor:` block (and `target`/`labels` for a remote worker)",
        hint: `write ${replacement(owner?.driver)} on the workflow, job or step; to run it on ` +
          `a remote worker, add \`labels:\` or \`target:\` (see ${note})`,
        path,
        key,
      });
    }
  }
  return rest;
}
