const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The launcher a user runs. */
export const swampLauncher = `${root}/cli/swamp`;

/** Runs `cli/swamp` (the launcher's bundle) in `cwd`, with NO_COLOR and `env` over this environment. */
export async function runLauncher(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(swampLauncher, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
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
  const output = await cliCommand(args, options).output();
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
