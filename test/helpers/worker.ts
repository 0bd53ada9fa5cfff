// A real `swamp worker connect --json` for tests: its lifecycle lines parsed
// as they come, bounded waits for one of them, and its exit status.
import { cliArgv, runCli } from "./cli.ts";

/**
 * Mints an enrollment token in the repository as its OS user would, with
 * `labels` (`k=v`), returning `NAME.SECRET`; throws with the CLI's error.
 */
export async function mintWorkerToken(
  repoRoot: string,
  name: string,
  labels: string[] = [],
): Promise<string> {
  const made = await runCli([
    "worker",
    "token",
    "create",
    name,
    "--repo",
    repoRoot,
    "-q",
    ...labels.flatMap((label) => ["--label", label]),
  ]);
  if (made.code !== 0) throw new Error(`worker token create failed: ${made.stderr}`);
  return made.stdout.trim();
}

export interface WorkerProcess {
  pid: number;
  events: Record<string, unknown>[];
  /** Everything it printed on stderr so far (read after it exits). */
  stderr(): Promise<string>;
  /** The first event named `name` (after `after` events), or a clear failure after `ms`. */
  waitFor(name: string, ms?: number, after?: number): Promise<Record<string, unknown>>;
  /** Its exit status, or a failure after `ms`. */
  exited(ms?: number): Promise<number>;
  signal(signal: Deno.Signal): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `swamp worker connect URL --json` with `args` (token, cache dir,
 * trust); `prefix` runs it through another command that execs it (such as
 * `ip netns exec NS`), so its pid is still the worker's.
 */
export function startWorker(
  url: string,
  args: string[],
  env: Record<string, string> = {},
  prefix: string[] = [],
): WorkerProcess {
  const [program, ...rest] = [...prefix, ...cliArgv(["worker", "connect", url, "--json", ...args])];
  const child = new Deno.Command(program, {
    args: rest,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  const stderr = new Response(child.stderr).text();
  let code: number | undefined;
  const status = child.status.then((s) => (code = s.code));
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let at;
      while ((at = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, at).trim();
        buffer = buffer.slice(at + 1);
        if (line) events.push(JSON.parse(line));
        wake?.();
      }
    }
  })();
  const until = async (ready: () => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (Date.now() > deadline) {
        throw new Error(
          `worker: no ${what} within ${ms} ms; events: ${JSON.stringify(events)}` +
            (code !== undefined ? `; exited ${code}: ${await stderr}` : ""),
        );
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  };
  return {
    pid: child.pid,
    events,
    stderr: () => stderr,
    async waitFor(name, ms = 30_000, after = 0) {
      await until(() => events.slice(after).some((e) => e.event === name), ms, `"${name}" event`);
      return events.slice(after).find((e) => e.event === name)!;
    },
    async exited(ms = 30_000) {
      await until(() => code !== undefined, ms, "exit");
      await reading;
      return code!;
    },
    signal(signal) {
      if (code === undefined) child.kill(signal);
    },
    async [Symbol.asyncDispose]() {
      if (code === undefined) child.kill("SIGKILL");
      await status;
      await reading.catch(() => {});
      await stderr;
    },
  };
}
