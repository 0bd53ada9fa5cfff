import { assert, assertEquals, assertMatch, runCli } from "../helpers/mod.ts";

async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "swamp-e2e-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("repo init creates the layout, and a second run changes nothing and says so", async () => {
  await using dir = await tempDir();
  const first = await runCli(["repo", "init", "ops", "--store", "sqlite", "--json"], {
    cwd: dir.path,
  });
  assertEquals(first.code, 0, first.stderr);
  const created = (first.json as { created: string[] }).created;
  assertEquals(created.sort(), [
    ".gitignore",
    ".swamp.yaml",
    ".swamp/",
    "extensions/models/",
    "models/",
    "workflows/",
  ]);
  assertMatch(await Deno.readTextFile(`${dir.path}/ops/.swamp.yaml`), /^store: sqlite$/m);
  assertMatch(await Deno.readTextFile(`${dir.path}/ops/.gitignore`), /^\.swamp\/$/m);

  const second = await runCli(["repo", "init", "ops"], { cwd: dir.path });
  assertEquals(second.code, 0);
  assertMatch(second.stdout, /already a swamp repository \(store: sqlite\); nothing changed/);

  const conflict = await runCli(["repo", "init", "ops", "--store", "file"], { cwd: dir.path });
  assertEquals(conflict.code, 5);
  assertMatch(conflict.stderr, /^error\[already_exists\]: .* using the sqlite store/m);
});

Deno.test("workflow create, get and validate work from a subdirectory of the repo", async () => {
  await using dir = await tempDir();
  await runCli(["repo", "init"], { cwd: dir.path });
  await Deno.mkdir(`${dir.path}/models/deep`, { recursive: true });
  const cwd = `${dir.path}/models/deep`;
  const created = await runCli(["workflow", "create", "deploy", "--json"], { cwd });
  assertEquals(created.code, 0, created.stderr);
  const info =
    (created.json as { workflow: { id: string; file: string; stepCount: number } }).workflow;
  assertMatch(info.id, /^[0-9a-f-]{36}$/);
  assertEquals(info.file, "workflows/workflow-deploy.yaml");
  assertEquals(info.stepCount, 1);

  const again = await runCli(["workflow", "create", "deploy"], { cwd });
  assertEquals(again.code, 5);
  assertMatch(again.stderr, /error\[already_exists\]: workflow `deploy` already exists/);

  const byId = await runCli(["workflow", "get", info.id, "--json"], { cwd });
  assertEquals(byId.code, 0);
  const got = byId.json as {
    workflow: { name: string };
    definition: { jobs: unknown[] };
    source: string;
  };
  assertEquals(got.workflow.name, "deploy");
  assertEquals(got.definition.jobs.length, 1);
  assertMatch(got.source, /^id: /);

  const valid = await runCli(["workflow", "validate", "deploy"], { cwd });
  assertEquals(valid.code, 0, valid.stdout + valid.stderr);
  assertMatch(valid.stdout, /^ok\s+deploy$/m);
});

Deno.test("validate reports every problem with file:line:column and exits 3", async () => {
  await using dir = await tempDir();
  await runCli(["repo", "init"], { cwd: dir.path });
  await runCli(["workflow", "create", "good"], { cwd: dir.path });
  await Deno.writeTextFile(
    `${dir.path}/workflows/workflow-bad.yaml`,
    [
      "id: 8d3c1f7e-9b2a-4c5d-8e6f-1a2b3c4d5e6f",
      "name: bad",
      "jobs:",
      "  - name: one",
      "    steps:",
      "      - name: s",
      "        task: {type: model_method, modelIdOrName: nope, methodName: execute}",
      "        dependsOn: [{step: ghost, condition: {type: succeded}}]",
      "",
    ].join("\n"),
  );
  const result = await runCli(["workflow", "validate", "--all"], { cwd: dir.path });
  assertEquals(result.code, 3);
  assertMatch(
    result.stdout,
    // A model that does not exist yet only warns (an earlier step may create it, as in swamp).
    /^workflows\/workflow-bad\.yaml:7:51: warning\[unknown-model\]: no model definition named `nope` exists yet$/m,
  );
  assertMatch(
    result.stdout,
    /^workflows\/workflow-bad\.yaml:8:28: error\[unknown-dependency\]: no step named `ghost` in this job$/m,
  );
  assertMatch(
    result.stdout,
    /^workflows\/workflow-bad\.yaml:8:53: error\[invalid-value\]: `succeded` is not a valid type$/m,
  );
  assertMatch(result.stdout, /hint: did you mean `succeeded`\?/);
  assertMatch(result.stdout, /^ok\s+good$/m);
  assertMatch(result.stdout, /^1 of 2 workflows valid$/m);

  const json = await runCli(["workflow", "validate", "--all", "--json"], { cwd: dir.path });
  assertEquals(json.code, 3);
  const results = (json.json as {
    results: {
      workflowName: string;
      valid: boolean;
      diagnostics: { severity: string; line: number }[];
    }[];
  }).results;
  assertEquals(results.map((r) => [r.workflowName, r.valid]), [["bad", false], ["good", true]]);
  assertEquals(results[0].diagnostics.map((d) => d.severity), [
    "warning",
    "error",
    "error",
  ]);
});

Deno.test("errors carry a stable code, a hint, the mapped exit status, and no stack trace", async () => {
  await using dir = await tempDir();
  const noRepo = await runCli(["workflow", "validate", "--all"], { cwd: dir.path });
  assertEquals(noRepo.code, 4);
  assertMatch(noRepo.stderr, /^error\[repo_not_found\]: no swamp repository at or above /m);
  assertMatch(noRepo.stderr, /^ {2}hint: run `swamp repo init`/m);
  assert(!noRepo.stderr.includes("    at "), "no stack trace for a user error");

  const json = await runCli(["workflow", "get", "x", "--json"], { cwd: dir.path });
  assertEquals(json.code, 4);
  assertEquals((json.json as { error: { code: string } }).error.code, "repo_not_found");

  const usage = await runCli(["workflow", "validate", "--al"], { cwd: dir.path });
  assertEquals(usage.code, 2);
  assertMatch(usage.stderr, /^error\[usage\]: unknown option --al$/m);
  assertMatch(usage.stderr, /did you mean `--all`\?/);

  const unknown = await runCli(["workflw", "list"], { cwd: dir.path });
  assertEquals(unknown.code, 2);
  assertMatch(unknown.stderr, /did you mean `workflow`\?/);

  await runCli(["repo", "init"], { cwd: dir.path });
  const missing = await runCli(["workflow", "get", "nothing-here", "--json"], { cwd: dir.path });
  assertEquals(missing.code, 4);
  const error = (missing.json as { error: { code: string; hint: string } }).error;
  assertEquals(error.code, "not_found");
  assertMatch(error.hint, /swamp workflow create/);
});

Deno.test("repo paths the file system refuses are named, with a stable code and what to do", async () => {
  await using dir = await tempDir();
  const proc = await runCli(["repo", "init", "/proc/swamp-test"]);
  assertEquals(proc.code, 7, proc.stderr);
  assertMatch(proc.stderr, /^error\[io\]: cannot create a repository at \/proc\/swamp-test: /m);
  assertMatch(proc.stderr, /^ {2}hint: choose a directory you can write to/m);

  await Deno.writeTextFile(`${dir.path}/notes`, "");
  const under = await runCli(["repo", "init", "notes/ops"], { cwd: dir.path });
  assertEquals(under.code, 2, under.stderr);
  assertMatch(
    under.stderr,
    /^error\[usage\]: cannot create a repository at .*\/notes\/ops: .*\/notes is a file/m,
  );
  const onFile = await runCli(["workflow", "list", "--repo", "notes"], { cwd: dir.path });
  assertEquals(onFile.code, 4, onFile.stderr);
  assertMatch(
    onFile.stderr,
    /^error\[repo_not_found\]: no swamp repository at .*\/notes: it is a file/m,
  );

  await runCli(["repo", "init", "ops"], { cwd: dir.path });
  await Deno.remove(`${dir.path}/ops/.swamp`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/ops/.swamp`, "");
  const state = await runCli(["workflow", "list", "--repo", "ops"], { cwd: dir.path });
  assertEquals(state.code, 7, state.stderr);
  assertMatch(
    state.stderr,
    /^error\[io\]: cannot open the runtime state in .*\/ops\/\.swamp: it is a file/m,
  );
});

// Root may write anywhere, so these refusals cannot happen under it.
const asRoot = Deno.uid() === 0;
Deno.test({
  name: `directories without write permission are io errors naming them${
    asRoot ? " (skipped: running as root)" : ""
  }`,
  ignore: asRoot,
  fn: async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/locked`);
    await runCli(["repo", "init", "ops"], { cwd: dir.path });
    await Deno.remove(`${dir.path}/ops/.swamp`, { recursive: true });
    await Deno.chmod(`${dir.path}/locked`, 0o555);
    await Deno.chmod(`${dir.path}/ops`, 0o555);
    try {
      const init = await runCli(["repo", "init", "locked/ops"], { cwd: dir.path });
      assertEquals(init.code, 7, init.stderr);
      assertMatch(init.stderr, /cannot create a repository at .*\/locked\/ops: permission denied/);
      const state = await runCli(["workflow", "list", "--repo", "ops"], { cwd: dir.path });
      assertEquals(state.code, 7, state.stderr);
      assertMatch(state.stderr, /cannot open the runtime state in .*\/ops\/\.swamp: permission/);
    } finally {
      await Deno.chmod(`${dir.path}/locked`, 0o755);
      await Deno.chmod(`${dir.path}/ops`, 0o755);
    }
  },
});

Deno.test("help is available at every level", async () => {
  const top = await runCli(["--help"]);
  assertEquals(top.code, 0);
  assertMatch(top.stdout, /Usage: swamp <noun> <verb>/);
  // Every global option's description starts in the same column.
  const options = top.stdout.split("Global options:\n")[1].split("\n\n")[0].split("\n");
  const columns = options.map((line) => line.search(/(?<=\S {2,})\S/));
  assertEquals(new Set(columns).size, 1, options.join("\n"));
  assertMatch(top.stdout, /^ {6}--version {12}print the version$/m);
  const noun = await runCli(["workflow"]);
  assertMatch(noun.stdout, /^ {2}validate\s+check workflows/m);
  const verb = await runCli(["workflow", "validate", "--help"]);
  assertMatch(verb.stdout, /Usage: swamp workflow validate \[WORKFLOW\] \[options\]/);
  assertMatch(verb.stdout, /--all/);
  const json = await runCli(["repo", "init", "--help", "--json"]);
  assertMatch((json.json as { help: string }).help, /swamp repo init/);
  // A group of verbs shows the noun's verbs; a command that is its own noun has help too.
  const group = await runCli(["auth", "token"]);
  assertEquals(group.code, 0, group.stderr);
  assertMatch(group.stdout, /^ {2}token create\s+mint an API token/m);
  const serve = await runCli(["serve", "--help"]);
  assertMatch(serve.stdout, /Usage: swamp serve \[options\]/);
  assertMatch(serve.stdout, /--tls-self-signed/);
});

Deno.test("`swamp help [noun [verb]]` shows the help --help shows at that level", async () => {
  for (const words of [[], ["workflow"], ["workflow", "run"], ["auth", "token"]]) {
    const [asked, flagged] = await Promise.all([
      runCli(["help", ...words]),
      runCli([...words, "--help"]),
    ]);
    assertEquals([asked.code, asked.stderr], [0, ""], `swamp help ${words.join(" ")}`);
    assertEquals(asked.stdout, flagged.stdout, `swamp help ${words.join(" ")}`);
  }
  const json = await runCli(["help", "repo", "init", "--json"]);
  assertMatch((json.json as { help: string }).help, /^swamp repo init: /);
  const unknown = await runCli(["help", "workflow", "nosuch"]);
  assertEquals(unknown.code, 2);
  assertMatch(unknown.stderr, /^error\[usage\]: unknown command `workflow nosuch`/m);
  const typo = await runCli(["hlep"]);
  assertMatch(typo.stderr, /did you mean `help`\?/);
});

Deno.test("--repo points commands at a repository from anywhere", async () => {
  await using dir = await tempDir();
  await runCli(["repo", "init", "r"], { cwd: dir.path });
  const created = await runCli(["--repo", `${dir.path}/r`, "workflow", "create", "x"], {
    cwd: "/",
  });
  assertEquals(created.code, 0, created.stderr);
  const validated = await runCli(["workflow", "validate", "x", "--repo", `${dir.path}/r`, "-q"], {
    cwd: "/",
  });
  assertEquals(validated.code, 0);
  assertEquals(validated.stderr, "");
});
