// Types shared by the command table, the parser and the handlers. This file
// imports nothing, so it can never be part of an import cycle.

export interface FlagSpec {
  name: string;
  short?: string;
  type: "boolean" | "string" | "list";
  /** Placeholder shown in help, e.g. "DIR". */
  value?: string;
  choices?: readonly string[];
  description: string;
}

export interface ArgSpec {
  name: string;
  required: boolean;
  description: string;
}

export interface CommandSpec {
  noun: string;
  verb: string;
  summary: string;
  description: string;
  args: ArgSpec[];
  flags: FlagSpec[];
  examples: string[];
  /** The --json output, as an example document. */
  json: string;
  /** The --json output is NDJSON (one object a line); `json` is then example lines. */
  jsonLines?: boolean;
  load: () => Promise<{ run: (ctx: never) => Promise<number> }>;
  /** Takes --server, --token, --ca-cert and --pin, and then goes through that server. */
  remote?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * A command-line mistake; reported as a `usage` error. When `typo` is given,
 * the report suggests the nearest of its candidates (computed only then, so
 * the suggestion code stays off the start-up path).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = "",
    readonly typo?: { word: string; candidates: string[]; prefix?: string },
  ) {
    super(message);
  }
}

/** "workflow run", "auth token create", or "serve" for a noun that is its own command. */
export function commandWords(spec: Pick<CommandSpec, "noun" | "verb">): string {
  return spec.verb ? `${spec.noun} ${spec.verb}` : spec.noun;
}
