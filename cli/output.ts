import type { FlagValues } from "./types.ts";

/** Where a command's output goes: this process's stdout and stderr, or a served command's buffers. */
export interface OutputSink {
  stdout: { writeSync(p: Uint8Array): number };
  stderr: { writeSync(p: Uint8Array): number };
  stdoutTerminal: boolean;
  stderrTerminal: boolean;
}

let own: OutputSink | undefined;

/** This process's own stdout and stderr (asked once whether they are terminals). */
export function processSink(): OutputSink {
  return own ??= {
    stdout: Deno.stdout,
    stderr: Deno.stderr,
    stdoutTerminal: Deno.stdout.isTerminal(),
    stderrTerminal: Deno.stderr.isTerminal(),
  };
}

/** How results reach the user: JSON or text, colour or not, how chatty. */
export class Output {
  readonly json: boolean;
  readonly color: boolean;
  /** Whether progress on stderr (the live summary of a followed run) may be coloured. */
  readonly stderrColor: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  private readonly encoder = new TextEncoder();

  constructor(flags: FlagValues, private readonly sink: OutputSink = processSink()) {
    this.json = flags.json === true;
    this.quiet = flags.quiet === true;
    this.verbose = flags.verbose === true;
    const noColorEnv = (Deno.env.get("NO_COLOR") ?? "") !== "";
    this.color = !this.json && flags["no-color"] !== true && !noColorEnv &&
      sink.stdoutTerminal;
    this.stderrColor = !this.json && flags["no-color"] !== true && !noColorEnv &&
      sink.stderrTerminal;
  }

  /** A line of the command's result on stdout (suppressed under --json). */
  line(text = ""): void {
    if (!this.json) this.write(this.sink.stdout, `${text}\n`);
  }

  /**
   * Rows under a bold header, each column as wide as its widest cell
   * (suppressed under --json). With -q only the first column, the name each
   * row is known by, one per line and no header: for scripts.
   */
  table(header: string[], rows: string[][]): void {
    if (this.quiet) {
      for (const row of rows) this.line(row[0]);
      return;
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const format = (row: string[]) =>
      row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
    this.line(this.bold(format(header)));
    for (const row of rows) this.line(format(row));
  }

  /** Progress and commentary on stderr; -q silences it. */
  info(text: string): void {
    if (!this.quiet && !this.json) this.write(this.sink.stderr, `${text}\n`);
  }

  /** The JSON document of a command (only under --json). */
  document(value: unknown): void {
    if (this.json) this.write(this.sink.stdout, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Text on stdout as it is (for streamed JSON lines). */
  raw(text: string): void {
    this.write(this.sink.stdout, text);
  }

  stderr(text: string): void {
    this.write(this.sink.stderr, text);
  }

  bold(text: string): string {
    return this.paint(text, "1");
  }
  red(text: string): string {
    return this.paint(text, "31");
  }
  yellow(text: string): string {
    return this.paint(text, "33");
  }
  green(text: string): string {
    return this.paint(text, "32");
  }
  dim(text: string): string {
    return this.paint(text, "2");
  }

  private paint(text: string, code: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
    const bytes = this.encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  }
}
