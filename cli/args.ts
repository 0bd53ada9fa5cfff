import { type FlagSpec, type FlagValues, UsageError } from "./types.ts";

export { type FlagValues, UsageError };

export interface ParsedArgs {
  positionals: string[];
  flags: FlagValues;
}

/**
 * Parses argv against the flags a command accepts: `--flag`, `--flag value`,
 * `--flag=value`, `-x`, and `--` to end flags. Unknown flags are errors with
 * a did-you-mean hint.
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [rawName, inline] = long ? splitOnce(arg.slice(2), "=") : [arg.slice(1), undefined];
    const spec = long
      ? specs.find((s) => s.name === rawName)
      : specs.find((s) => s.short === rawName);
    if (!spec && rawName === "actor") {
      throw new UsageError(
        "--actor is no longer accepted: who acts comes from a credential, never from a flag",
        "locally you act as your OS account; through a server, as the API token you pass (--token)",
      );
    }
    if (!spec) {
      const names = specs.map((s) => s.name);
      throw new UsageError(
        `unknown option ${arg}`,
        `options here: ${names.map((n) => `--${n}`).join(", ")}`,
        { word: rawName, candidates: names, prefix: "--" },
      );
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`);
      flags[spec.name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      throw new UsageError(`--${spec.name} needs a value${spec.value ? ` (${spec.value})` : ""}`);
    }
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(
        `--${spec.name} must be one of ${spec.choices.join(", ")}, not \`${value}\``,
      );
    }
    if (spec.type === "list") {
      flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), value];
    } else {
      flags[spec.name] = value;
    }
  }
  return { positionals, flags };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
