const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The launcher a user runs. */
export const swampLauncher = `${root}/cli/swamp`;

/** Runs `cli/swamp` (the launcher's bundle) in `cwd`, with NO_COLOR and `env` over this environment. */
export async function runLauncher(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(swampLauncher, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const out = await outputWithin(child, `swamp ${args.join(" ")}`);
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /**
   * stdout parsed as JSON, when it is JSON; for NDJSON (a followed run under
   * --json), its last line, which is the command's result.
   */
  json: unknown;
}

interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** stderr into the same pipe as stdout, in the order written, as a terminal shows them. */
  interleaved?: boolean;
  /** How long the command may take (default cliTimeoutMs). */
  timeoutMs?: number;
}

/**
 * How long one command of a test may take before it is killed and the test
 * fails naming it: a command that hangs must fail its test, not hold the
 * suite until CI's limit with nothing said about which one.
 */
export const cliTimeoutMs = 300_000;

/** The deno and postgres processes, with what each waits in (wchan). */
async function processTable(): Promise<string> {
  try {
    const ps = await new Deno.Command("ps", {
      args: ["-eo", "pid,ppid,stat,etime,wchan:24,args"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(ps.stdout).split("\n")
      .filter((line, i) => i === 0 || /deno|postgres|swamp/.test(line))
      .map((line) => line.slice(0, 400)).join("\n").slice(0, 8000);
  } catch {
    return "(ps failed)";
  }
}

/**
 * The child's output once it exits; killed (SIGKILL) when it runs past
 * `timeoutMs`, and then an error naming `what`, with what it had printed.
 */
export async function outputWithin(
  child: Deno.ChildProcess,
  what: string,
  timeoutMs = cliTimeoutMs,
): Promise<Deno.CommandOutput> {
  let timedOut = false;
  let processes = "";
  const timer = setTimeout(async () => {
    timedOut = true;
    // What was running then, to tell where it hung (the supervisor and the database included).
    processes = await processTable();
    try {
      child.kill("SIGKILL");
    } catch { /* it ended meanwhile */ }
  }, timeoutMs);
  try {
    const output = await child.output();
    if (timedOut) {
      const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).slice(-4000);
      throw new Error(
        `\`${what}\` did not end within ${timeoutMs / 1000} s and was killed;` +
          `\n--- its stdout:\n${text(output.stdout)}\n--- its stderr:\n${text(output.stderr)}` +
          `\n--- deno and postgres processes when it was killed:\n${processes}`,
      );
    }
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/** The command line that runs the CLI from this checkout's sources with `args`. */
export function cliArgv(args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-all",
    `--config=${root}/deno.json`,
    `${root}/cli/main.ts`,
    ...args,
  ];
}

/** The CLI from this checkout's sources, as the launcher would run it, with piped output. */
function cliCommand(args: string[], options: CliOptions): Deno.Command {
  const argv = cliArgv(args);
  const [program, ...rest] = options.interleaved
    ? ["sh", "-c", 'exec "$@" 2>&1', "sh", ...argv]
    : argv;
  return new Deno.Command(program, {
    args: rest,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
}

/** Runs the real CLI in a subprocess, as a user would from `cwd`. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const output = await outputWithin(
    cliCommand(args, options).spawn(),
    `swamp ${args.join(" ")}`,
    options.timeoutMs,
  );
  const stdout = new TextDecoder().decode(output.stdout);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    try {
      json = JSON.parse(stdout.trimEnd().split("\n").pop() ?? "");
    } catch {
      json = undefined;
    }
  }
  return { code: output.code, stdout, stderr: new TextDecoder().decode(output.stderr), json };
}

/** Starts the real CLI as a child process (for tests that signal it). */
export function spawnCli(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return cliCommand(args, { env }).spawn();
}
