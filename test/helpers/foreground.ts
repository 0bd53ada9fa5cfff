import { cliArgv } from "./cli.ts";

/** The CLI as a terminal's foreground job, where Ctrl-C reaches every process of its group. */
export interface ForegroundJob {
  readonly pid: number;
  /** Resolves once stderr so far matches; rejects if the CLI exits first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** What a terminal's Ctrl-C does: SIGINT to the whole process group. */
  ctrlC(): void;
  readonly finished: Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts the CLI from this checkout's sources in a process group of its own
 * (setsid execs in place, so the CLI leads the group), as a shell starts a job.
 */
export function startForeground(args: string[], env: Record<string, string> = {}): ForegroundJob {
  const child = new Deno.Command("setsid", {
    args: cliArgv(args),
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let ended = false;
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stderr)) waiter.resolve();
      else if (ended) {
        waiter.reject(new Error(`the CLI exited before ${waiter.pattern}:\n${stderr}`));
      } else continue;
      waiters.splice(waiters.indexOf(waiter), 1);
    }
  };
  const readStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      settle();
    }
    ended = true;
    settle();
  })();
  const readStdout = new Response(child.stdout).text();
  return {
    pid: child.pid,
    stderrMatches: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        settle();
      }),
    ctrlC: () => Deno.kill(-child.pid, "SIGINT"),
    finished: (async () => {
      const [status, stdout] = await Promise.all([child.status, readStdout, readStderr]);
      return { code: status.code, stdout, stderr };
    })(),
  };
}
