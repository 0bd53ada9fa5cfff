// Shared helpers for the benchmarks: paths, spawning, timing and statistics.
// Benchmarks only report numbers and ratios; nothing here asserts on time.

/** The checkout's root directory (no trailing slash). */
export const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The Deno binary running the benchmark, used for every spawned `deno run`. */
export const deno = Deno.execPath();
/** The same flags the `cli/swamp` launcher passes to `deno run`. */
export const runFlags = ["--quiet", "--no-prompt", "--allow-all"];
/** The real user path: the sh launcher, its checks, and the bundled CLI it runs. */
export const launcher = [`${root}/cli/swamp`];
/** The CLI invoked directly, the way the launcher execs it. */
export const direct = [
  deno,
  "run",
  ...runFlags,
  "--config",
  `${root}/deno.json`,
  `${root}/cli/main.ts`,
];

export interface Case {
  label: string;
  /** Program and arguments. */
  cmd: string[];
}

export interface Result {
  label: string;
  samples: number[];
  median: number;
  p90: number;
}

/** Runs a command to completion; throws with its stderr when it fails. */
export async function run(cmd: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`\`${cmd.join(" ")}\` exited ${out.code}:\n${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

/** Wall time in ms of one run, from spawn to exit. Output is discarded; failure throws. */
export async function timeOnce(cmd: string[], cwd?: string): Promise<number> {
  const start = performance.now();
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
  const status = await child.output();
  const ms = performance.now() - start;
  if (!status.success) {
    const err = new TextDecoder().decode(status.stderr);
    throw new Error(`\`${cmd.join(" ")}\` exited ${status.code}:\n${err}`);
  }
  return ms;
}

/**
 * Times every case `runs` times after `warmup` untimed runs each. Runs are
 * interleaved (case 1, case 2, …, case 1, …) so drift in machine load affects
 * all cases alike and the ratios stay fair.
 */
export async function measure(
  cases: Case[],
  opts: { runs: number; warmup: number; cwd?: string },
): Promise<Result[]> {
  for (let i = 0; i < opts.warmup; i++) {
    for (const c of cases) await timeOnce(c.cmd, opts.cwd);
  }
  const samples: number[][] = cases.map(() => []);
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, c] of cases.entries()) samples[j].push(await timeOnce(c.cmd, opts.cwd));
  }
  return cases.map((c, j) => ({
    label: c.label,
    samples: samples[j],
    median: median(samples[j]),
    p90: percentile(samples[j], 90),
  }));
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/**
 * The share of wall time a plain JS loop (fixed chunks of work, nothing
 * allocated) spends in chunks over three times its median chunk: time the
 * host did not run this VM. Mean timings lose about as much; medians much less.
 */
export function hostPauseShare(seconds: number): number {
  let x = 0;
  const chunks: number[] = [];
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const t = performance.now();
    for (let i = 0; i < 200_000; i++) x = (x * 31 + i) | 0;
    chunks.push(performance.now() - t);
  }
  const typical = median(chunks);
  const total = chunks.reduce((a, b) => a + b, 0);
  const paused = chunks.filter((c) => c > 3 * typical).reduce((a, b) => a + b, 0);
  return x === 0.5 ? 0 : paused / total; // x keeps the loop from being optimised away
}

/** Median, p90, mean and maximum: how a spread-out timing reads in one table row. */
export function spread(values: number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return [median(values), percentile(values, 90), mean, percentile(values, 100)];
}

/** The p-th percentile (0–100), linearly interpolated between the closest ranks. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** A fixed-width text table; numbers are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [
    header,
    ...rows.map((r) => r.map((c) => (typeof c === "number" ? c.toFixed(1) : c))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)]
    .join("\n");
}

/** Runs `body` with a fresh temporary directory and removes it afterwards. */
export async function withTempDir<T>(
  prefix: string,
  body: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads a positive integer from an environment variable, or the default. */
export function envInt(name: string, fallback: number): number {
  const value = Number(Deno.env.get(name));
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
