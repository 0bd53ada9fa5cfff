import { cliArgv } from "./cli.ts";

/** The CLI as a terminal's foreground job, where Ctrl-C reaches every process of its group. */
export interface ForegroundJob {
  readonly pid: number;
  /** Resolves once stderr so far matches; rejects if the CLI exits first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** Resolves once stdout so far matches; rejects if the CLI exits first. */
  stdoutMatches(pattern: RegExp): Promise<void>;
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
  const text = { stderr: "", stdout: "" };
  let ended = 0;
  type Stream = keyof typeof text;
  const waiters: {
    stream: Stream;
    pattern: RegExp;
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(text[waiter.stream])) waiter.resolve();
      else if (ended === 2) {
        waiter.reject(
          new Error(`the CLI exited before ${waiter.pattern}:\n${text.stderr}\n${text.stdout}`),
        );
      } else continue;
      waiters.splice(waiters.indexOf(waiter), 1);
    }
  };
  const read = async (stream: Stream, from: ReadableStream<Uint8Array>) => {
    for await (const chunk of from.pipeThrough(new TextDecoderStream())) {
      text[stream] += chunk;
      settle();
    }
    ended++;
    settle();
  };
  const readStderr = read("stderr", child.stderr);
  const readStdout = read("stdout", child.stdout);
  const matches = (stream: Stream) => (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ stream, pattern, resolve, reject });
      settle();
    });
  return {
    pid: child.pid,
    stderrMatches: matches("stderr"),
    stdoutMatches: matches("stdout"),
    ctrlC: () => Deno.kill(-child.pid, "SIGINT"),
    finished: (async () => {
      const [status] = await Promise.all([child.status, readStdout, readStderr]);
      return { code: status.code, stdout: text.stdout, stderr: text.stderr };
    })(),
  };
}
