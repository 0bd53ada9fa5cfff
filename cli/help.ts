import { commandWords } from "./types.ts";
import { commands, type CommandSpec, type FlagSpec, globalFlags, nouns } from "./spec.ts";

import { version } from "./version.ts";

export { version };

function flagNames(flag: FlagSpec): string {
  return `${flag.short ? `-${flag.short}, ` : "    "}--${flag.name}${
    flag.value ? ` ${flag.value}` : ""
  }`;
}

/** The column descriptions start in: at least 24, and two spaces past the longest name. */
function nameWidth(flags: FlagSpec[]): number {
  return Math.max(24, ...flags.map((flag) => flagNames(flag).length + 1));
}

function flagLine(flag: FlagSpec, width: number): string {
  return `  ${flagNames(flag).padEnd(width)} ${flag.description}`;
}

const versionFlag: FlagSpec = {
  name: "version",
  type: "boolean",
  description: "print the version",
};

export function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((a) => (a.required ? a.name : `[${a.name}]`)).join(" ");
  return `swamp ${commandWords(spec)}${args ? ` ${args}` : ""} [options]`;
}

export function topHelp(): string {
  const topWidth = nameWidth([...globalFlags, versionFlag]);
  return [
    `swamp ${version}: durable workflows for operational automation`,
    "",
    "Usage: swamp <noun> <verb> [arguments] [options]",
    "",
    "Nouns:",
    ...nouns.map((n) => `  ${n.noun.padEnd(12)} ${n.summary}`),
    "",
    "Global options:",
    ...[...globalFlags, versionFlag].map((flag) => flagLine(flag, topWidth)),
    "",
    "Run `swamp help <noun>` (or `swamp <noun> --help`) for its verbs,",
    "`swamp help <noun> <verb>` (or `swamp <noun> <verb> --help`) for details.",
    "",
  ].join("\n");
}

export function nounHelp(noun: string): string {
  const summary = nouns.find((n) => n.noun === noun)?.summary ?? "";
  const verbs = commands.filter((c) => c.noun === noun);
  const width = Math.max(11, ...verbs.map((c) => c.verb.length));
  return [
    `swamp ${noun}: ${summary}`,
    "",
    `Usage: swamp ${noun} <verb> [arguments] [options]`,
    "",
    "Verbs:",
    ...verbs.map((c) => `  ${c.verb.padEnd(width)}  ${c.summary}`),
    "",
    `Run \`swamp ${noun} <verb> --help\` for details.`,
    "",
  ].join("\n");
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [
    `swamp ${commandWords(spec)}: ${spec.summary}`,
    "",
    `Usage: ${usageLine(spec)}`,
    "",
    spec.description,
    "",
  ];
  const width = nameWidth([...spec.flags, ...globalFlags]);
  if (spec.args.length > 0) {
    lines.push(
      "Arguments:",
      ...spec.args.map((a) => `  ${a.name.padEnd(width)} ${a.description}`),
      "",
    );
  }
  if (spec.flags.length > 0) {
    lines.push("Options:", ...spec.flags.map((flag) => flagLine(flag, width)), "");
  }
  lines.push("Global options:", ...globalFlags.map((flag) => flagLine(flag, width)), "");
  lines.push("Examples:", ...spec.examples.map((e) => `  ${e}`), "");
  return lines.join("\n");
}
