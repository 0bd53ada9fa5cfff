// The parts of the guide runner (test/e2e/guide_test.ts) that the remote
// walkthrough's test (test/e2e/remote_walkthrough_test.ts) uses too: the
// fenced blocks of a page with their markers, and the long-lived shell the
// blocks run in. The conventions are written at the top of guide_test.ts.

const root = new URL("../../", import.meta.url).pathname;
/** A block that runs longer than this fails the test instead of hanging it. */
const blockTimeoutMs = 120_000;

export interface Block {
  lang: string;
  body: string;
  marker: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** Whether only blank lines (and this block's marker) separate it from the block before. */
  adjacent: boolean;
}

export function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const pattern = /(?:<!--\s*([^>]*?)\s*-->\s*\n)?```(\w*)\n([\s\S]*?)```/g;
  let end = 0;
  for (const match of markdown.matchAll(pattern)) {
    const start = match.index!;
    out.push({
      marker: match[1] ?? "",
      lang: match[2],
      body: match[3],
      line: markdown.slice(0, start).split("\n").length + (match[1] === undefined ? 0 : 1),
      adjacent: out.length > 0 && markdown.slice(end, start).trim() === "",
    });
    end = start + match[0].length;
  }
  return out;
}

/**
 * One long-lived `sh` that every block of a guide runs in, so the current
 * directory, shell variables and exports carry from one block to the next.
 * Each block is written to a file and sourced with `.`; its output goes to a
 * file, and the shell reports the block's exit status on its stdout.
 */
export class GuideShell {
  private readonly child: Deno.ChildProcess;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly lines: AsyncIterator<string>;
  private count = 0;

  /**
   * `env` is added to the shell's environment; `prefix` runs the shell
   * through a command that execs it (`ip netns exec NS`), so it is still the
   * session's leader.
   */
  constructor(
    private readonly scratch: string,
    cwd: string,
    options: { env?: Record<string, string>; prefix?: string[] } = {},
  ) {
    // In a session of its own, so whatever a guide starts in the background (a server)
    // is ended with the shell, even when a block fails midway.
    const [program, ...args] = [...(options.prefix ?? []), "setsid", "sh"];
    this.child = new Deno.Command(program, {
      args,
      cwd,
      env: { PATH: `${root}cli:${Deno.env.get("PATH")}`, NO_COLOR: "1", ...options.env },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.writer = this.child.stdin.getWriter();
    this.lines = this.child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines())[Symbol.asyncIterator]();
  }

  /** Runs one block; returns its exit status and what it printed (stdout and stderr). */
  async run(body: string): Promise<{ code: number; output: string }> {
    const n = ++this.count;
    const script = `${this.scratch}/block-${n}.sh`;
    const output = `${this.scratch}/block-${n}.out`;
    await Deno.writeTextFile(script, body);
    const done = `__guide_block_${n}_done__`;
    await this.writer.write(
      new TextEncoder().encode(`. "${script}" < /dev/null > "${output}" 2>&1; echo "${done} $?"\n`),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`block ${n} ran longer than ${blockTimeoutMs} ms`)),
        blockTimeoutMs,
      );
    });
    try {
      for (;;) {
        const next = await Promise.race([this.lines.next(), timeout]);
        if (next.done) {
          const text = await Deno.readTextFile(output).catch(() => "");
          throw new Error(`the shell exited during block ${n}:\n${body}\noutput:\n${text}`);
        }
        if (next.value.startsWith(`${done} `)) {
          return {
            code: Number(next.value.slice(done.length + 1)),
            output: await Deno.readTextFile(output),
          };
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.writer.close().catch(() => {});
    try {
      Deno.kill(-this.child.pid, "SIGKILL");
    } catch {
      // already exited
    }
    await this.child.status;
    await this.lines.return?.();
  }

  /** The shell's current directory (where `file:` blocks are written). */
  async cwd(): Promise<string> {
    const { output } = await this.run("pwd");
    return output.trim();
  }
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest);
    },
  });
}
