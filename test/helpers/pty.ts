import { cliArgv } from "./cli.ts";

// The CLI on a real pseudo-terminal, as a person sees it: util-linux
// `script` gives the command a pty for stdin, stdout and stderr, and copies
// everything the terminal shows (escape sequences included) to its stdout.

export interface PtyResult {
  code: number;
  /** What the terminal received, with its escape sequences. */
  transcript: string;
  /** The CLI's peak resident memory in KiB (GNU time's %M). */
  maxRssKib: number;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs the CLI from this checkout on a pty `columns` wide; NO_COLOR unless `env` says otherwise. */
export async function runCliOnPty(
  args: string[],
  options: { env?: Record<string, string>; columns?: number } = {},
): Promise<PtyResult> {
  const rssFile = await Deno.makeTempFile({ prefix: "swamp-pty-rss-" });
  try {
    const command = [
      `stty cols ${options.columns ?? 100} rows 40;`,
      "exec /usr/bin/time -f %M -o",
      quote(rssFile),
      ...cliArgv(args).map(quote),
    ].join(" ");
    const output = await new Deno.Command("script", {
      args: ["-qfec", command, "/dev/null"],
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const rss = (await Deno.readTextFile(rssFile)).trim().split("\n").pop() ?? "";
    return {
      code: output.code,
      transcript: new TextDecoder().decode(output.stdout),
      maxRssKib: Number(rss),
    };
  } finally {
    await Deno.remove(rssFile);
  }
}

/** The lines as the screen ends up showing them, roughly: escape sequences out, frames split. */
export function screenLines(transcript: string): string[] {
  return transcript
    // deno-lint-ignore no-control-regex
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "\n")
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== "");
}
