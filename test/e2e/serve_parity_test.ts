// One code path per command: the same CLI scenarios run against the local
// repository and through `swamp serve` give the same output, --json
// documents and exit statuses (only ids, times, pids and the actor differ).
import {
  assertEquals,
  gateStep,
  mintToken,
  repoWith,
  runIdOf,
  shellStep,
  startServe,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";
import { localPrincipal } from "../../cli/wiring.ts";

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;

const files = {
  "workflows/workflow-ok.yaml": workflowFile(
    "ok",
    shellStep("one", "echo one; echo to-stderr >&2") +
      shellStep("two", 'echo "two ${{ inputs.who }}"', after("one")),
    "inputs:\n  properties:\n    who: {type: string, default: world}\n",
  ),
  "workflows/workflow-bad.yaml": workflowFile("bad", shellStep("boom", "echo boom; exit 3")),
  "workflows/workflow-gated.yaml": workflowFile(
    "gated",
    shellStep("build", "echo built") + gateStep("confirm", after("build")),
  ),
  "workflows/workflow-broken.yaml": "id: 1\nname: broken\njobs: []\nunknownKey: 1\n",
};

type Cli = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const isoTime = /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** What may differ between two runs of the same scenario: ids, times, pids, durations, the actor. */
function normalise(text: string, actor: string, root: string): string {
  return text
    .replaceAll(root, "<repo>")
    .replace(uuid, "<id>")
    .replace(/\b[0-9a-f]{8}\b/g, "<short-id>")
    .replace(isoTime, "<time>")
    // SQLite listing cursors start with a time in ms, in JSON and in the next-page hint.
    .replace(/\b\d{13}:/g, "<ms>:")
    .replaceAll(actor, "<actor>")
    .replace(/"(actorKind|kind)": "(token|os_user)"/g, '"$1": "<actor-kind>"')
    // Which server instance owns the run: set only when one does.
    .replace(/\n *"server": "[^"]*",?/g, "")
    .replace(
      /"(pid|pgid|processStart|durationMs|bootId|host|server|epoch)": ("[^"]*"|\d+)/g,
      '"$1": <v>',
    )
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, "<dur>")
    .replace(/"(seq|revision)": \d+/g, '"$1": <n>')
    // Table columns are as wide as the longest actor name, which differs on purpose.
    .replace(/ {2,}/g, "  ")
    .split("\n").reduce(stepLinesInOrder, [] as string[]).join("\n");
}

/**
 * A step's stdout and stderr lines are kept in order within each stream, not
 * between the two (decision 0024: two spool files): consecutive lines of one
 * step are compared as a set. The steps here print at most one line per stream.
 */
function stepLinesInOrder(lines: string[], line: string): string[] {
  const step = /^\[[^\]]+\] /.exec(line)?.[0];
  let at = lines.length;
  while (step && at > 0 && lines[at - 1].startsWith(step) && lines[at - 1] > line) at--;
  lines.splice(at, 0, line);
  return lines;
}

/**
 * NDJSON (`run --json`, `logs --follow --json`) pretty-printed like a document, events first,
 * then log lines, then the rest: the two streams interleave differently from run to run.
 */
function ndjsonAsDocuments(stdout: string): string {
  const lines = stdout.trimEnd().split("\n");
  if (lines.length < 2 || !lines.every((line) => line.startsWith("{"))) return stdout;
  const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const kind = (o: Record<string, unknown>) => ("event" in o ? 0 : "line" in o ? 1 : 2);
  return objects.sort((a, b) => kind(a) - kind(b))
    .map((o) => JSON.stringify(o, null, 2)).join("\n") + "\n";
}

async function scenario(cli: Cli, actor: string, root: string): Promise<string[]> {
  const out: string[] = [];
  const record = async (args: string[]) => {
    const r = await cli(args);
    out.push(
      `$ ${normalise(args.join(" "), actor, root)}\n[${r.code}]\n${
        normalise(ndjsonAsDocuments(r.stdout), actor, root)
      }\n${normalise(r.stderr, actor, root)}`,
    );
    return r;
  };
  const ok = await record(["workflow", "run", "ok", "--input", "who=ada"]);
  const okId = runIdOf(ok);
  await record(["workflow", "status", okId, "--json"]);
  await record(["workflow", "status", okId.slice(0, 8)]);
  await record(["workflow", "logs", okId]);
  await record(["workflow", "logs", okId, "--json", "--step", "main/two"]);
  const bad = await record(["workflow", "run", "bad", "--json"]);
  // `run --json` prints one JSON object a line; the last is the run as it ended.
  const badId = (JSON.parse(bad.stdout.trimEnd().split("\n").at(-1)!) as { run: { id: string } })
    .run.id;
  await record(["workflow", "logs", badId, "--follow"]);
  const gated = await record(["workflow", "run", "gated"]);
  const gatedId = runIdOf(gated);
  await record(["workflow", "approvals", "--json"]);
  await record(["workflow", "cancel", gatedId, "--json"]);
  await record(["workflow", "cancel", okId]);
  await record(["workflow", "list", "--json", "--limit", "2"]);
  await record(["workflow", "list", "--status", "cancelled"]);
  await record(["workflow", "list", "--workflow", "okk"]);
  await record(["workflow", "list", "-q"]);
  await record(["workflow", "status", okId, "-q"]);
  await record([
    "workflow",
    "list",
    "--limit",
    "1",
    "--status",
    "cancelled",
    "--status",
    "succeeded",
  ]);
  await record(["workflow", "validate", "--all", "--json"]);
  await record(["workflow", "validate", "broken"]);
  await record(["workflow", "files"]);
  await record(["workflow", "evaluate", "ok", "--input", "who=x", "--json"]);
  await record(["workflow", "status", "ffffffff"]);
  await record(["workflow", "status", "no"]);
  await record(["workflow", "run", "nosuch"]);
  await record(["workflow", "resume", okId]);
  await record(["workflow", "get", "ok"]);
  return out;
}

for (const store of storeKinds) {
  Deno.test(`[${store}] every run command gives the same output locally and through swamp serve`, async () => {
    await using local = await repoWith(store, files);
    await using remote = await repoWith(store, files);
    const token = await mintToken(remote.root, "parity", "admin");
    await using server = await startServe(remote.root, ["--tls-self-signed"]);
    const localOut = await scenario((args) => local.cli(args), localPrincipal().name, local.root);
    const remoteOut = await scenario((args) => server.cli(args, token), "parity", remote.root);
    for (let i = 0; i < localOut.length; i++) assertEquals(remoteOut[i], localOut[i]);
    assertEquals(remoteOut.length, localOut.length);
  });
}
