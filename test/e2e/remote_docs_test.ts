// Keeps docs/remote/ true to the code: every command and flag its pages name
// exists (and every remote command has a generated reference page linked
// from the section's command reference); the troubleshooting table has one
// row per code the worker ends with, read from the worker's code, with the
// exit status the code table gives; the lifecycle/restart table and the
// cache-dir callout are there; every relative link and anchor resolves.
// The getting-started walkthrough is run by ./remote_walkthrough_test.ts.
import { commands, globalFlags } from "../../cli/spec.ts";
import { pageName } from "../../cli/docs_gen.ts";
import { refusalCodes } from "../../cli/worker/agent.ts";
import { errorCodeTable, exitCodeFor } from "../../runtime/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { makeTempRepo } from "../helpers/repo.ts";
import { humanLine } from "../../cli/commands/worker_connect.ts";
import { outputMatches } from "./guide_output.ts";

const root = new URL("../../", import.meta.url).pathname;
const section = `${root}docs/remote`;
const pages = [...Deno.readDirSync(section)]
  .filter((e) => e.isFile && e.name.endsWith(".md"))
  .map((e) => e.name)
  .sort();
const read = (path: string) => Deno.readTextFileSync(path);

/** The remote section and the pages that link into it. */
const linking = [
  ...pages.map((name) => `docs/remote/${name}`),
  "docs/index.md",
  "docs/reference/workers.md",
  "docs/reference/worker-tokens.md",
  "docs/reference/workflow-file.md",
  "docs/reference/api.md",
  "docs/reference/security.md",
  "docs/reference/vault.md",
  "docs/reference/errors.md",
  "docs/reference/validation.md",
  "docs/guides/serve.md",
  "docs/guides/extension-models.md",
  "docs/guides/docker.md",
];

/** Fenced blocks other than sample output, and inline code spans: where commands are written. */
export function codeSegments(markdown: string): string[] {
  const out: string[] = [];
  const prose = markdown.replace(/```(\w*)\n([\s\S]*?)```/g, (_all, lang: string, body: string) => {
    if (lang !== "text") out.push(...body.split("\n"));
    return "";
  });
  for (const match of prose.matchAll(/`([^`\n]+)`/g)) out.push(match[1]);
  return out;
}

const verbsOf = new Map<string, string[]>();
for (const c of commands) verbsOf.set(c.noun, [...(verbsOf.get(c.noun) ?? []), c.verb]);

/**
 * Each `swamp NOUN VERB … --flag …` in `segment`: the command named (or an
 * error when none matches) and the long flags given to it.
 */
export function mentions(segment: string): { command?: string; error?: string; flags: string[] }[] {
  const out: { command?: string; error?: string; flags: string[] }[] = [];
  for (const piece of segment.split(/[|;&()]|\$\(/)) {
    const match = /(?:^|[\s"'/])swamp((?: +[^\s]+)*)/.exec(piece);
    if (!match) continue;
    const words = match[1].trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 || words[0].startsWith("-")) continue;
    const flags = words.filter((w) => /^--[a-z]/.test(w)).map((w) => w.replace(/[=,.:].*$/, ""));
    const verbs = verbsOf.get(words[0]);
    if (!verbs) {
      out.push({ error: `swamp ${words[0]}: no such command`, flags });
      continue;
    }
    const rest = words.slice(1);
    if (rest.length === 0 && !verbs.includes("")) continue; // a noun alone: `swamp data`
    const verb = verbs.filter((v) => v === "" || rest.slice(0, v.split(" ").length).join(" ") === v)
      .sort((a, b) => b.length - a.length)[0];
    if (verb === undefined) {
      out.push({ error: `swamp ${words.slice(0, 3).join(" ")}: no such command`, flags });
    } else out.push({ command: `${words[0]} ${verb}`.trim(), flags });
  }
  return out;
}

Deno.test("every command and flag the remote pages (and the pages linking to them) name exists", () => {
  const problems: string[] = [];
  let checked = 0;
  for (const name of linking) {
    for (const segment of codeSegments(read(`${root}${name}`))) {
      for (const m of mentions(segment)) {
        if (m.error) {
          problems.push(`${name}: ${m.error} (in \`${segment}\`)`);
          continue;
        }
        checked++;
        const spec = commands.find((c) => `${c.noun} ${c.verb}`.trim() === m.command)!;
        const known = new Set([...spec.flags, ...globalFlags].map((f) => `--${f.name}`));
        for (const flag of m.flags) {
          if (!known.has(flag)) problems.push(`${name}: swamp ${m.command} has no ${flag}`);
        }
      }
    }
  }
  assert(checked > 40, `only ${checked} command mentions were found`);
  assertEquals(problems, []);
});

Deno.test("the scanner finds commands and flags, and refuses ones that do not exist", () => {
  assertEquals(mentions('SWAMP_WORKER_TOKEN="$T" swamp worker connect "$URL" --pin "$PIN"'), [
    { command: "worker connect", flags: ["--pin"] },
  ]);
  assertEquals(mentions("swamp serve --listen 0.0.0.0:7870 --tls-self-signed"), [
    { command: "serve", flags: ["--listen", "--tls-self-signed"] },
  ]);
  assertEquals(mentions("swamp worker token create box --label=a=b")[0].flags, ["--label"]);
  assertEquals(mentions("swamp worker vanish")[0].error, "swamp worker vanish: no such command");
  assertEquals(mentions("swamp frobnicate now")[0].error, "swamp frobnicate: no such command");
});

Deno.test("every remote command has a generated reference page, linked from docs/remote/cli.md", () => {
  const cli = read(`${section}/cli.md`);
  const remote = commands.filter((c) => ["serve", "worker", "auth"].includes(c.noun));
  assert(remote.length >= 10, remote.map((c) => c.verb).join(", "));
  for (const spec of remote) {
    const page = `docs/reference/cli/${pageName(spec)}`;
    assert(read(`${root}${page}`).includes("## JSON output"), `${page} lacks its JSON shape`);
    assert(cli.includes(`](../reference/cli/${pageName(spec)})`), `cli.md does not link ${page}`);
  }
});

/** The rows of the first table after `heading` (its first column's code, and every cell). */
function tableAfter(markdown: string, heading: string): string[][] {
  const from = markdown.indexOf(`\n${heading}\n`);
  assert(from >= 0, `no heading ${heading}`);
  const lines = markdown.slice(from).split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

/**
 * What runs one placed extension step on a worker: the codes these files raise fail that step
 * (documented in the step failure table), never the worker itself.
 */
const stepFiles = ["bundles.ts", "extension_steps.ts"];

async function codesIn(files: string[]): Promise<Set<string>> {
  const codes = new Set<string>();
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/ErrorCode\.([A-Z_]+)/g)) codes.add(m[1].toLowerCase());
    if (/new UsageError\(/.test(text)) codes.add("usage");
  }
  return codes;
}

/** Every code `swamp worker connect` can end with, read from its code. */
async function workerEndCodes(): Promise<Set<string>> {
  const files = [`${root}cli/commands/worker_connect.ts`];
  for (const entry of Deno.readDirSync(`${root}cli/worker`)) {
    if (
      entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") &&
      !stepFiles.includes(entry.name)
    ) {
      files.push(`${root}cli/worker/${entry.name}`);
    }
  }
  return new Set([...refusalCodes, ...await codesIn(files)]);
}

Deno.test("the troubleshooting table has one row per code the worker ends with, with its exit status", async () => {
  const ops = read(`${section}/operations.md`);
  const rows = tableAfter(ops, "## Troubleshooting");
  const named = rows.map((r) => r[0].replaceAll("`", ""));
  const expected = await workerEndCodes();
  assert(
    expected.has("token_invalid") && expected.has("executor_unavailable"),
    [...expected].join(),
  );
  assertEquals([...named].sort(), [...expected].sort());
  for (const row of rows) {
    const code = row[0].replaceAll("`", "");
    assertEquals(Number(row[1]), exitCodeFor(code), `exit status of ${code}`);
    assert(row[2] !== "" && row[3] !== "", `${code} needs a cause and a fix`);
  }
  // What fails one extension step on a worker is in the table of step failures.
  const stepRows = tableAfter(
    ops,
    "Steps placed on workers can fail with these codes (`workflow status` shows the reason):",
  )
    .map((r) => r[0].replaceAll("`", ""));
  for (const code of await codesIn(stepFiles.map((f) => `${root}cli/worker/${f}`))) {
    assert(stepRows.includes(code), `the step failure table lacks ${code}`);
  }
  // Every code any table of the section names is one of the closed list.
  const tables = ops.slice(ops.indexOf("## Troubleshooting"), ops.indexOf("## Upgrading"));
  for (const m of tables.matchAll(/^\| `([a-z_]+)`/gm)) {
    assert(m[1] in errorCodeTable, `operations.md names ${m[1]}, which is not an error code`);
  }
});

Deno.test("the lifecycle state machine, the restart table and the cache-dir callout are there", () => {
  const page = read(`${section}/enrollment.md`);
  assert(/^> \*\*The cache dir is the machine\.\*\*/m.test(page), "the cache-dir callout");
  assert(page.includes("unused ──first use (binds the machine)──▶ enrolled"), "the state machine");
  const states = tableAfter(page, "## States").map((r) => r[0]);
  assertEquals(states, ["`unused`", "`enrolled`", "`expired`", "`revoked`"]);
  const scenarios = tableAfter(page, "## Restart scenarios").map((r) => r[0]);
  for (
    const scenario of [
      "socket blip",
      "process restart",
      "machine reboot",
      "token expired",
      "token revoked",
      "a second machine",
    ]
  ) {
    assert(scenarios.some((s) => s.includes(`**${scenario}**`)), `no row for ${scenario}`);
  }
});

/** The body of the fenced block right after the line `marker` (a comment) in `markdown`. */
function blockAfter(markdown: string, marker: string): string {
  const at = markdown.indexOf(marker);
  assert(at >= 0, `no ${marker}`);
  const match = /```\w*\n([\s\S]*?)```/.exec(markdown.slice(at));
  return match![1];
}

Deno.test("concepts.md: the legacy-driver diagnostic is what validate prints for the file shown", async () => {
  const page = read(`${section}/concepts.md`);
  const file = blockAfter(page, "<!-- file: workflows/workflow-old.yaml -->");
  const shown = blockAfter(page, "`swamp workflow validate old` prints");
  await using repo = await makeTempRepo({ "workflows/workflow-old.yaml": file });
  const result = await runCli(["workflow", "validate", "old"], {
    cwd: repo.root,
    interleaved: true,
  });
  assertEquals(result.code, 3);
  assert(
    outputMatches(shown, result.stdout, "full", repo.root),
    `concepts.md shows\n${shown}\nvalidate printed\n${result.stdout}`,
  );
});

Deno.test("failure.md: the renewal lines are the worker's and the server's", () => {
  const shown = blockAfter(read(`${section}/failure.md`), "Each renewal is logged on both sides")
    .trimEnd().split("\n");
  assertEquals(shown[0], humanLine("renewed", { sessionId: "3c9e0f6a-…" }));
  // The --json lines: the same keys the worker and the hub log (worker_session_credential_test).
  assertEquals(Object.keys(JSON.parse(shown[1])), ["event", "time", "sessionId"]);
  assertEquals(JSON.parse(shown[1]).event, "renewed");
  assertEquals(Object.keys(JSON.parse(shown[2])), ["event", "time", "workerId", "name"]);
  assertEquals(JSON.parse(shown[2]).event, "worker_session_renewed");
});

/** GitHub's anchor for a heading. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");
}

function anchors(markdown: string): Set<string> {
  const prose = markdown.replace(/```[\s\S]*?```/g, "");
  return new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

Deno.test("every relative link of the remote pages, and of the pages linking to them, resolves", () => {
  assertEquals(
    slug("`--json` lines of `swamp worker connect`"),
    "--json-lines-of-swamp-worker-connect",
  );
  const broken: string[] = [];
  for (const name of linking) {
    const page = read(`${root}${name}`);
    for (const m of page.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const file = path === "" ? `${root}${name}` : new URL(path, `file://${root}${name}`).pathname;
      let text: string;
      try {
        if (Deno.statSync(file).isDirectory) continue; // a folder of the repository
        text = read(file);
      } catch {
        broken.push(`${name}: ${target} (no such file)`);
        continue;
      }
      if (anchor && !anchors(text).has(anchor)) broken.push(`${name}: ${target} (no such anchor)`);
    }
  }
  assertEquals(broken, []);
});
