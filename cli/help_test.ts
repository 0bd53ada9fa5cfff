import { assert, assertEquals } from "../test/helpers/mod.ts";
import { commandHelp, topHelp } from "./help.ts";
import { commands } from "./spec.ts";

/** The column each option line's description starts in (after two or more spaces). */
function descriptionColumns(section: string): number[] {
  return section.split("\n").filter((line) => /^ {2}(-\w, | {4})--/.test(line)).map((line) =>
    line.search(/(?<=\S {2,})\S/)
  );
}

Deno.test("every command's help lines its options up, however long a flag's name", () => {
  for (const spec of commands) {
    const help = commandHelp(spec);
    const columns = descriptionColumns(help);
    const name = `${spec.noun} ${spec.verb ?? ""}`;
    assert(columns.length > 0, name);
    assert(columns.every((c) => c > 0), `${name}: a flag's name runs into its description`);
    assertEquals(new Set(columns).size, 1, `${name}: descriptions start in different columns`);
  }
  assertEquals(new Set(descriptionColumns(topHelp())).size, 1);
});
