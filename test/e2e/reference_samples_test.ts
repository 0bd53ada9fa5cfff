// The sample outputs on the reference pages (docs/reference/*.md; the
// generated cli/ pages show none), compared with what the real CLI prints in
// the way the guides' samples are (./guide_output.ts). A transcript block
// (lines of `$ command`, each followed by what it prints) is run command by
// command; any other block is the output of the command named here. Samples
// that need more than one shell can stage (an enrolled worker's token, an
// expired one) are not here; they were checked by hand.
import { assert } from "../helpers/mod.ts";
import { makeTempRepo } from "../helpers/repo.ts";
import { outputMatches } from "./guide_output.ts";

const reference = new URL("../../docs/reference/", import.meta.url).pathname;
const cli = new URL("../../cli/", import.meta.url).pathname;
const account = new TextDecoder().decode(
  (await new Deno.Command("id", { args: ["-un"], stdout: "piped" }).output()).stdout,
).trim();

/** The body of the one fenced block of `page` whose first line is `first`. */
function sample(page: string, first: string): string {
  const markdown = Deno.readTextFileSync(`${reference}${page}`);
  const bodies = [...markdown.matchAll(/```\w*\n([\s\S]*?)```/g)]
    .map((match) => match[1])
    .filter((body) => body.split("\n")[0] === first);
  assert(bodies.length === 1, `${page}: ${bodies.length} blocks start with ${first}`);
  return bodies[0];
}

/** Runs `command` with sh in `cwd`; stdout and stderr as a terminal shows them. */
async function shell(command: string, cwd: string): Promise<string> {
  const output = await new Deno.Command("sh", {
    args: ["-c", `${command} 2>&1`],
    cwd,
    env: { PATH: `${cli}:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
    stdout: "piped",
    stdin: "null",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

/** Runs a transcript block's commands in order; returns the samples that differ. */
async function transcript(block: string, cwd: string): Promise<string[]> {
  const steps: { command: string; expected: string[] }[] = [];
  for (const line of block.trimEnd().split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
    else steps[steps.length - 1].expected.push(line);
  }
  const drifted: string[] = [];
  for (const { command, expected } of steps) {
    const printed = await shell(command, cwd);
    if (!outputMatches(expected.join("\n"), printed, "full", cwd, account)) {
      drifted.push(`$ ${command}\nshown:\n${expected.join("\n")}\nprinted:\n${printed}`);
    }
  }
  return drifted;
}

async function compare(page: string, first: string, command: string, cwd: string) {
  const shown = sample(page, first);
  const printed = await shell(command, cwd);
  assert(
    outputMatches(shown, printed, "full", cwd, account),
    `${page}: the sample starting ${first} drifted\nshown:\n${shown}\nprinted by ${command}:\n${printed}`,
  );
}

Deno.test("errors.md: the error a command prints, as text and as --json", async () => {
  await using repo = await makeTempRepo();
  await shell("swamp workflow create hello", repo.root);
  await compare(
    "errors.md",
    "error[not_found]: no workflow named `helo`",
    "swamp workflow get helo",
    repo.root,
  );
  await compare("errors.md", "{", "swamp workflow get helo --json", repo.root);
});

Deno.test("api.md: workflow create --json and the error object", async () => {
  await using repo = await makeTempRepo();
  const markdown = Deno.readTextFileSync(`${reference}api.md`);
  const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]);
  const [created, error] = [
    blocks.find((body) => body.includes('"workflow"')),
    blocks.find((body) => body.includes('"error"')),
  ];
  assert(created && error, "api.md shows a CreateWorkflowResponse and an error");
  assert(
    outputMatches(created, await shell("swamp workflow create deploy --json", repo.root), "full"),
  );
  await shell("swamp workflow create hello", repo.root);
  assert(outputMatches(error, await shell("swamp workflow get helo --json", repo.root), "full"));
});

Deno.test("worker-tokens.md: create, as text and as --json, and revoke twice", async () => {
  await using repo = await makeTempRepo();
  const drifted = [
    ...await transcript(
      sample("worker-tokens.md", "$ swamp worker token create gpu-box --label gpu=true"),
      repo.root,
    ),
    ...await transcript(
      sample("worker-tokens.md", "$ swamp worker token revoke gpu-box"),
      repo.root,
    ),
  ];
  assert(drifted.length === 0, drifted.join("\n\n"));
  await compare(
    "worker-tokens.md",
    "{",
    "swamp worker token create gpu-box-2 --label gpu=true --json | sed 's/gpu-box-2/gpu-box/'",
    repo.root,
  );
});
