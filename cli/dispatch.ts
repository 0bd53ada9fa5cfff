// One command line, from its words to its exit status: what cli/main.ts runs,
// and what a waiting supervisor runs for a command it serves (decision 0033).
// Only the command table, the argument parser and the help text load up
// front; a command's handler and the runtime load when that command runs
// (docs/design/0002-fast-start.md).
import { parseArgs, UsageError } from "./args.ts";
import { commandHelp, nounHelp, topHelp, version } from "./help.ts";
import { Output, type OutputSink } from "./output.ts";
import { commands, findCommand, globalFlags, nouns } from "./spec.ts";
import { startStandbySupervisor } from "./supervisor_process.ts";
import { absolute } from "./absolute_path.ts";
import { runServed, servesCommand, submitAhead } from "./standby_client.ts";
import { startWaitingSupervisor } from "./standby_server.ts";

/**
 * Runs the command `argv` names and returns its exit status. Output goes to
 * `sink` when given (a command served for another process), else to this
 * process's stdout and stderr.
 */
export async function dispatch(argv: string[], sink?: OutputSink): Promise<number> {
  const [noun, verb] = leadingWords(argv);
  // `swamp help workflow run` is `swamp workflow run --help`, at every level.
  if (noun === "help") return await dispatch([...withoutWord(argv, "help"), "--help"], sink);
  let out = new Output(parseLoose(argv), sink);
  /** The repository whose waiting supervisor this command would have used, had one answered. */
  let noneWaited: string | undefined;
  /** The command goes through a server: the supervisor started for it loads what that needs. */
  let remote = false;
  try {
    if (noun === undefined) {
      if (argv.includes("--version")) {
        out.line(version);
        out.document({ version });
        return 0;
      }
      const flags = parseArgs(argv, globalFlags).flags;
      out = new Output(flags, sink);
      if (flags.help || argv.length === 0) return printHelp(out, topHelp());
      return 0;
    }
    if (!nouns.some((n) => n.noun === noun)) {
      const candidates = [...nouns.map((n) => n.noun), "help"];
      throw new UsageError(`unknown command \`${noun}\``, `commands: ${candidates.join(", ")}`, {
        word: noun,
        candidates,
      });
    }
    const spec = findCommand(noun, verb ?? "");
    // `swamp auth token` names a group of verbs, not a command: show the noun's verbs.
    const group = verb !== undefined &&
      commands.some((c) => c.noun === noun && c.verb.startsWith(`${verb} `));
    if (!spec) {
      if (verb !== undefined && !group) {
        const verbs = commands.filter((c) => c.noun === noun).map((c) => c.verb);
        throw new UsageError(`unknown command \`${noun} ${verb}\``, `verbs: ${verbs.join(", ")}`, {
          word: verb,
          candidates: verbs,
        });
      }
      return printHelp(out, nounHelp(noun));
    }
    const parsed = parseArgs(argv, [...globalFlags, ...spec.flags]);
    out = new Output(parsed.flags, sink);
    if (parsed.flags.help) return printHelp(out, commandHelp(spec));
    const args = parsed.positionals.slice(1 + (spec.verb ? spec.verb.split(" ").length : 0));
    const required = spec.args.filter((a) => a.required).length;
    if (args.length < required) {
      throw new UsageError(
        `missing ${spec.args[args.length].name}`,
        `usage: swamp ${noun} ${verb} ${
          spec.args.map((a) => (a.required ? a.name : `[${a.name}]`)).join(" ")
        }`,
      );
    }
    if (args.length > spec.args.length) {
      throw new UsageError(`unexpected argument \`${args[spec.args.length]}\``);
    }
    const repo = parsed.flags.repo;
    const searchFrom = typeof repo === "string" ? absolute(repo) : Deno.cwd();
    if (!sink && servesCommand(spec.noun, spec.verb)) {
      // A supervisor waiting for this repository has the command's code loaded: it runs the
      // command and this process prints what it printed (docs/design/0033), also when the
      // command goes through a server (0036).
      remote = !isLocal(parsed.flags);
      const served = await runServed(searchFrom, argv, remote);
      if (served.code !== undefined) return served.code;
      noneWaited = served.root;
    }
    if (startsLocalRun(spec.noun, spec.verb, parsed.flags)) {
      // A supervisor waiting for this repository's next run takes it now (docs/design/0032);
      // else one is started to load while this command does.
      if (!await submitAhead(searchFrom, args[0], parsed.flags)) startStandbySupervisor(searchFrom);
    }
    const [{ run }, { createContext }] = await Promise.all([spec.load(), import("./context.ts")]);
    return await (run as (ctx: unknown) => Promise<number>)(
      await createContext(args, parsed.flags, out, spec.remote === true),
    );
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    const { reportError } = await import("./report.ts");
    return await reportError(error, out);
  } finally {
    // The next such command in this repository finds one waiting.
    if (noneWaited !== undefined) {
      await startWaitingSupervisor(noneWaited, { remote }).catch(() => {});
    }
  }
}

/**
 * `workflow run` without a server creates a run that a supervisor process of
 * its own executes: that process is started now, to load while this one does.
 */
function startsLocalRun(noun: string, verb: string, flags: Record<string, unknown>): boolean {
  return noun === "workflow" && verb === "run" && isLocal(flags);
}

/** No server named: the command reads and writes the repository itself. */
function isLocal(flags: Record<string, unknown>): boolean {
  return flags.server === undefined && !Deno.env.get("SWAMP_SERVER");
}

function printHelp(out: Output, text: string): number {
  if (out.json) out.document({ help: text });
  else out.line(text.trimEnd());
  return 0;
}

/**
 * The command's words: noun and verb, or noun and two verbs for the nouns
 * that group their verbs (`auth token create`, `worker token list`). Skips
 * the values of the global flags that take one.
 */
function leadingWords(argv: string[]): (string | undefined)[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (arg === "--repo") i++;
    else if (!arg.startsWith("-")) words.push(arg);
  }
  // A noun that is a command by itself takes no verb (its later words are flag values).
  if (commands.some((c) => c.noun === words[0] && c.verb === "")) return [words[0], ""];
  const grouped = commands.some((c) => c.noun === words[0] && c.verb.startsWith(`${words[1]} `));
  if (grouped && words[2] !== undefined) return [words[0], `${words[1]} ${words[2]}`];
  return [words[0], words[1]];
}

/** argv without the first command word that is `word` (flag values are not command words). */
function withoutWord(argv: string[], word: string): string[] {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") break;
    if (argv[i] === "--repo") i++;
    else if (argv[i] === word) return [...argv.slice(0, i), ...argv.slice(i + 1)];
  }
  return argv;
}

/** Output flags, read before the command is known, so early errors honour --json. */
function parseLoose(argv: string[]) {
  return {
    json: argv.includes("--json"),
    "no-color": argv.includes("--no-color"),
    quiet: argv.includes("-q") || argv.includes("--quiet"),
    verbose: argv.includes("-v") || argv.includes("--verbose"),
  };
}
