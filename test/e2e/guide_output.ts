// How the guide runner (./guide_test.ts) compares a guide's sample output
// (a text block) with what the command really printed. The convention is
// written out at the top of guide_test.ts; this file implements it.

/** How a text block is compared: every line, only some lines in order, or every line in any order. */
export type OutputMode = "full" | "partial" | "any-order";

/** The placeholder that stands for any text within a line, or, alone on a line, for any lines. */
export const ANY = "…";

/**
 * Rewrites what differs from run to run into fixed tokens, so that a sample
 * written on one machine on one day matches another run. Applied to both
 * sides; `home` (the directory the guide's shell started in) becomes
 * `/home/me`, and `account` (the OS account running the guide, the actor of
 * its runs) `ada`, which is what the guides show.
 */
export function normalize(text: string, home?: string, account?: string): string {
  let out = text.replaceAll("\r\n", "\n");
  if (home) out = out.replaceAll(home, "/home/me");
  if (account && account !== "ada") {
    // The OS account is the actor of local commands: "by NAME", the ACTOR column, JSON values.
    const name = account.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`\\bby ${name}\\b`, "g"), "by ada")
      .replace(new RegExp(`": "${name}"`, "g"), '": "ada"')
      .replace(new RegExp(`(  )${name}(  |$)`, "gm"), "$1ada$2");
  }
  out = out
    // temporary paths other than the guide's own directory
    .replace(/\/tmp\/[^\s'"`,;)]*/g, "<tmp>")
    // token secrets: NAME.SECRET, the secret 32 random bytes in base64url
    .replace(/\b([a-z0-9][a-z0-9-]*)\.[A-Za-z0-9_-]{40,}/g, "$1.<secret>")
    // uuids (run, workflow, worker ids) before the shorter hex forms they contain
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<id>")
    // timestamps: 2026-12-04T05:00:10.582Z and 2026-12-04 05:00:10Z
    .replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>")
    // fingerprints, container ids, hashes, token secrets: long hex
    .replace(/\b(sha256:)?[0-9a-f]{12,}\b/g, "<hex>")
    // 8-character run-id prefixes
    .replace(/\b[0-9a-f]{8}\b/g, "<id8>")
    // ports on loopback
    .replace(/\b(127\.0\.0\.1|localhost|\[::1\]):\d+/g, "$1:<port>")
    // pids, process groups, process start ticks and the host that owns a run
    .replace(/\bpid \d+ on [^\s,]+/g, "pid <n> on <host>")
    .replace(/\b(pid|process|group|tick) \d+/g, "$1 <n>")
    .replace(/\bprocesses: \d+(, \d+)*/g, "processes: <n>")
    // durations: 4ms, 1.3s, 2m3s, 1h0m0s
    .replace(/\b\d+(\.\d+)?(ms|µs|ns|s|m|h)(\d+(\.\d+)?(ms|s|m))*\b/g, "<dur>")
    // column alignment shifts when a value's width changes
    .replace(/[ \t]+/g, " ");
  // Leading blanks too: deno fmt takes a code block's common indentation away.
  const lines = out.split("\n").map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  while (lines.length > 0 && lines[0] === "") lines.shift();
  return lines.join("\n");
}

function linePattern(expected: string): RegExp {
  const parts = expected.split(ANY).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*?")}$`);
}

/** Whether `actual` fits `expected` under `mode`; both are normalized here. */
export function outputMatches(
  expected: string,
  actual: string,
  mode: OutputMode,
  home?: string,
  account?: string,
): boolean {
  const want = normalize(expected).split("\n");
  const got = normalize(actual, home, account).split("\n");
  if (mode === "partial") return inOrder(want.filter((line) => line.trim() !== ANY), got);
  if (mode === "any-order") return anyOrder(want, got);
  return wholly(want.map((line) => line.trim() === ANY ? null : linePattern(line)), got);
}

/** Every line in order, a lone `…` line standing for any number of lines. */
function wholly(want: (RegExp | null)[], got: string[]): boolean {
  const memo = new Map<string, boolean>();
  const fits = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === want.length) result = j === got.length;
    else if (want[i] === null) result = fits(i + 1, j) || (j < got.length && fits(i, j + 1));
    else result = j < got.length && want[i]!.test(got[j]) && fits(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return fits(0, 0);
}

/** Each shown line appears, in the order shown; other lines may come between. */
function inOrder(want: string[], got: string[]): boolean {
  let j = 0;
  for (const line of want) {
    const pattern = linePattern(line);
    while (j < got.length && !pattern.test(got[j])) j++;
    if (j === got.length) return false;
    j++;
  }
  return true;
}

/** The same lines, in any order (concurrent steps print in the order they happen to finish). */
function anyOrder(want: string[], got: string[]): boolean {
  if (want.length !== got.length) return false;
  const left = [...got];
  for (const line of want) {
    const pattern = linePattern(line);
    const at = left.findIndex((candidate) => pattern.test(candidate));
    if (at < 0) return false;
    left.splice(at, 1);
  }
  return true;
}
