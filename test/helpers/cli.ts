const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The launcher a user runs. */
export const swampLauncher = `${root}/cli/swamp`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: unknown;
}

/** Runs the real CLI in a subprocess, as a user would from `cwd`. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-all",
      `--config=${root}/deno.json`,
      `${root}/cli/main.ts`,
      ...args,
    ],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
  const output = await command.output();
  const stdout = new TextDecoder().decode(output.stdout);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: output.code, stdout, stderr: new TextDecoder().decode(output.stderr), json };
}

/** Starts the real CLI as a child process (for tests that signal it), with piped output. */
export function spawnCli(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-all",
      `--config=${root}/deno.json`,
      `${root}/cli/main.ts`,
      ...args,
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}
