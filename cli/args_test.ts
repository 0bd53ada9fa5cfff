import { assertEquals } from "../test/helpers/mod.ts";
import { parseArgs, UsageError } from "./args.ts";
import type { FlagSpec } from "./types.ts";

const specs: FlagSpec[] = [
  { name: "json", type: "boolean", description: "" },
  { name: "quiet", short: "q", type: "boolean", description: "" },
  { name: "store", type: "string", choices: ["file", "sqlite"], description: "" },
  { name: "input", type: "list", description: "" },
];

function usageMessage(argv: string[]): string {
  try {
    parseArgs(argv, specs);
    return "";
  } catch (error) {
    if (!(error instanceof UsageError)) return "not a usage error";
    const typo = error.typo ? ` | ${error.typo.word} in ${error.typo.candidates.join(",")}` : "";
    return `${error.message} | ${error.hint}${typo}`;
  }
}

Deno.test("flags in every accepted form", () => {
  const parsed = parseArgs(
    ["init", "--json", "-q", "--store=sqlite", "--input", "a=1", "--input", "b=2", "--", "--x"],
    specs,
  );
  assertEquals(parsed.positionals, ["init", "--x"]);
  assertEquals(parsed.flags, { json: true, quiet: true, store: "sqlite", input: ["a=1", "b=2"] });
});

Deno.test("mistakes are usage errors that say what to do", () => {
  const options = "options here: --json, --quiet, --store, --input";
  const names = "json,quiet,store,input";
  assertEquals(usageMessage(["--jsn"]), `unknown option --jsn | ${options} | jsn in ${names}`);
  assertEquals(usageMessage(["-x"]), `unknown option -x | ${options} | x in ${names}`);
  assertEquals(usageMessage(["--store"]), "--store needs a value | ");
  assertEquals(
    usageMessage(["--store", "csv"]),
    "--store must be one of file, sqlite, not `csv` | ",
  );
  assertEquals(usageMessage(["--json=yes"]), "--json takes no value | ");
});
