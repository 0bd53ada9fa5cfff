// Executes every guide in docs/guides/ that says "This guide is executable",
// as its header describes, so the guides cannot drift from what swamp really
// does. One test per guide.
//
// The markers, each an HTML comment on the line(s) right before a fence:
//   skip               an sh block that is not run
//   exit: N            an sh block that must exit with status N (0 otherwise)
//   file: PATH         a yaml or ts block written to PATH (relative to the shell's directory;
//                      missing directories are made)
//   needs: docker      anywhere in the guide: skipped where no Docker engine answers
//   output: partial    a text block showing only some lines: each must appear, in order
//   output: any-order  a text block whose lines may come in any order (concurrent steps)
//   output: unchecked  a sample output that is not compared (say why in the prose)
//   not-output         a text block that is not output at all
// A text block right after an sh block (only blank lines between) is that block's
// output (stdout and stderr as the shell printed them, NO_COLOR) and must match it;
// any other text block must carry one of the last two markers. Before comparing,
// both sides are normalized (./guide_output.ts): uuids become <id>, 8-hex prefixes
// <id8>, longer hex (container ids, fingerprints, hashes) <hex>, timestamps <time>,
// durations <dur>, pids, process groups and start ticks <n>, the owner's host
// <host>, loopback ports <port>, the guide's starting directory /home/me, the OS
// account (the actor of local runs, in "by NAME" and the ACTOR column) ada, other
// /tmp paths <tmp>, runs of blanks one blank, and blanks at either end of a line go. In the sample, `…` stands for
// any text within a line, and a line of only `…` for any number of lines. Token
// secrets are not normalized: a guide keeps them in shell variables, unprinted.
import { assert, assertEquals } from "../helpers/mod.ts";
import { dockerAvailable } from "../helpers/docker.ts";
import { type Block, blocks, GuideShell } from "../helpers/guide_shell.ts";
import { outputMatches, type OutputMode } from "./guide_output.ts";

const root = new URL("../../", import.meta.url).pathname;
const marker = "This guide is executable";

const textModes: Record<string, OutputMode> = {
  "": "full",
  "output: partial": "partial",
  "output: any-order": "any-order",
};

async function runGuide(path: string): Promise<void> {
  const guide = await Deno.readTextFile(path);
  const dir = await Deno.makeTempDir({ prefix: "swamp-guide-" });
  const scratch = await Deno.makeTempDir({ prefix: "swamp-guide-blocks-" });
  const shell = new GuideShell(scratch, dir);
  const ran: string[] = [];
  const drifted: string[] = [];
  let last: { block: Block; output: string } | undefined;
  try {
    for (const block of blocks(guide)) {
      const previous = last;
      last = undefined;
      if (block.lang === "text") {
        if (block.marker === "not-output" || block.marker === "output: unchecked") continue;
        const mode = textModes[block.marker];
        if (mode === undefined) {
          drifted.push(`line ${block.line}: unknown marker "${block.marker}"`);
        } else if (!block.adjacent || previous === undefined) {
          drifted.push(
            `line ${block.line}: this text block does not follow an sh block that ran; ` +
              "mark it <!-- not-output --> or <!-- output: unchecked -->",
          );
        } else if (!outputMatches(block.body, previous.output, mode, dir, account)) {
          drifted.push(
            `line ${block.line} (${mode}): the guide shows\n${block.body}` +
              `but the command printed\n${previous.output}`,
          );
        }
        continue;
      }
      if (block.marker === "skip") continue;
      if ((block.lang === "yaml" || block.lang === "ts") && block.marker.startsWith("file:")) {
        const target = `${await shell.cwd()}/${block.marker.slice(5).trim()}`;
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        await Deno.writeTextFile(target, block.body);
        continue;
      }
      if (block.lang !== "sh") continue;
      const expected = block.marker.startsWith("exit:") ? Number(block.marker.slice(5)) : 0;
      const result = await shell.run(block.body);
      assertEquals(
        result.code,
        expected,
        `block failed:\n${block.body}\noutput:\n${result.output}`,
      );
      ran.push(block.body);
      last = { block, output: result.output };
    }
  } finally {
    await shell.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  assertEquals(ran.length > 4, true, "the guide should run several commands");
  assert(
    drifted.length === 0,
    `${drifted.length} sample output(s) differ from what the CLI prints:\n\n${
      drifted.join("\n\n")
    }`,
  );
}

/** The OS account running the tests: swamp's actor for local commands, shown as ada in the guides. */
const account = new TextDecoder().decode(
  (await new Deno.Command("id", { args: ["-un"], stdout: "piped" }).output()).stdout,
).trim();

const guidesDir = `${root}docs/guides`;
const guides: string[] = [];
for (const entry of Deno.readDirSync(guidesDir)) {
  if (!entry.isFile || !entry.name.endsWith(".md")) continue;
  if (Deno.readTextFileSync(`${guidesDir}/${entry.name}`).includes(marker)) {
    guides.push(entry.name);
  }
}
guides.sort();

Deno.test("at least the getting-started guide is executable", () => {
  assert(guides.includes("getting-started.md"), `found: ${guides.join(", ")}`);
});

// A guide that needs a Docker engine is reported as skipped where none answers, and fails
// under CI=true (dockerAvailable decides both, as for every Docker test).
const dockerHere = guides.some((name) => needsDocker(name)) ? await dockerAvailable() : false;

function needsDocker(name: string): boolean {
  return Deno.readTextFileSync(`${guidesDir}/${name}`).includes("<!-- needs: docker -->");
}

for (const name of guides) {
  const skip = needsDocker(name) && !dockerHere;
  Deno.test({
    name: `the ${name.replace(/\.md$/, "")} guide runs as written${
      skip ? " (skipped: no Docker engine answers here)" : ""
    }`,
    ignore: skip,
    fn: () => runGuide(`${guidesDir}/${name}`),
  });
}
