// What the listing commands print by default, with -q and with -v, and the hints they give.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  gateStep,
  repoWith,
  runCli,
  runIdOf,
  shellStep,
  workflowFile,
} from "../helpers/mod.ts";

async function tempRepo() {
  const path = await Deno.makeTempDir({ prefix: "swamp-e2e-" });
  const init = await runCli(["repo", "init", path, "-q"]);
  if (init.code !== 0) throw new Error(init.stderr);
  return {
    path,
    cli: (args: string[]) => runCli([...args, "--repo", path], { cwd: path }),
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

const badWorkflow = [
  "id: 8d3c1f7e-9b2a-4c5d-8e6f-1a2b3c4d5e6f",
  "name: bad",
  "jobs:",
  "  - name: one",
  "    steps:",
  // An unknown model type is an error (an unknown model instance is only a warning).
  "      - name: s",
  "        task: {type: model_method, modelType: no/such, modelName: s, methodName: execute}",
  "      - name: t",
  "        task: {type: model_method, modelType: no/such, modelName: t, methodName: execute}",
  "",
].join("\n");

Deno.test("workflow files lists the workflows with their jobs, steps and validity", async () => {
  await using repo = await tempRepo();
  const none = await repo.cli(["workflow", "files"]);
  assertEquals([none.code, none.stdout], [0, ""]);
  assertMatch(none.stderr, /no workflows in workflows\/; create one with `swamp workflow create/);

  await repo.cli(["workflow", "create", "deploy"]);
  await Deno.writeTextFile(`${repo.path}/workflows/workflow-bad.yaml`, badWorkflow);
  const table = await repo.cli(["workflow", "files"]);
  assertEquals(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assertMatch(lines[0], /^NAME\s+ID\s+FILE\s+JOBS\s+STEPS\s+VALID$/);
  assertMatch(
    lines[1],
    /^bad\s+8d3c1f7e-9b2a-4c5d-8e6f-1a2b3c4d5e6f\s+workflows\/workflow-bad\.yaml\s+1\s+2\s+no: 2 errors$/,
  );
  assertMatch(
    lines[2],
    /^deploy\s+[0-9a-f-]{36}\s+workflows\/workflow-deploy\.yaml\s+1\s+1\s+yes$/,
  );
  assertMatch(table.stderr, /see the problems with: swamp workflow validate bad/);

  const quiet = await repo.cli(["workflow", "files", "-q"]);
  assertEquals([quiet.stdout, quiet.stderr], ["bad\ndeploy\n", ""]);

  const json = await repo.cli(["workflow", "files", "--json"]);
  const results = (json.json as {
    results: { workflowName: string; valid: boolean; jobCount: number; stepCount: number }[];
  }).results;
  assertEquals(results.map((r) => [r.workflowName, r.valid, r.jobCount, r.stepCount]), [
    ["bad", false, 1, 2],
    ["deploy", true, 1, 1],
  ]);
  assert(json.stderr === "", json.stderr);
});

Deno.test("workflow list names a workflow filter that matches no workflow, and pages keep the filters", async () => {
  const alpha = workflowFile("alpha", shellStep("hi", "true"));
  await using repo = await repoWith("file", {
    "workflows/workflow-alpha.yaml": alpha,
    "workflows/workflow-beta.yaml": workflowFile("beta", shellStep("hi", "true")),
  });
  for (const name of ["alpha", "beta", "alpha"]) {
    const ran = await repo.cli(["workflow", "run", name, "-q"]);
    assertEquals(ran.code, 0, ran.stderr);
  }
  const first = await repo.cli(["workflow", "list", "--workflow", "alpha", "--limit", "1"]);
  const more = /^more: swamp (workflow list .*)$/m.exec(first.stderr);
  assert(more, first.stderr);
  assertMatch(more[1], /^workflow list --workflow alpha --limit 1 --cursor \S+$/);
  const next = await repo.cli(more[1].split(" "));
  const rows = next.stdout.trimEnd().split("\n").slice(1);
  assertEquals(rows.map((row) => row.split(/\s+/)[1]), ["alpha"], next.stdout);

  const typo = await repo.cli(["workflow", "list", "--workflow", "alpah"]);
  assertEquals([typo.code, typo.stdout], [0, ""]);
  assertEquals(
    typo.stderr,
    "no runs: no workflow in this repository is named `alpah`\n" +
      "  hint: did you mean `alpha`? `swamp workflow files` lists the workflows\n",
  );
  const id = /^id: (\S+)$/m.exec(alpha)![1];
  const byId = await repo.cli(["workflow", "list", "--workflow", id]);
  assertMatch(
    byId.stderr,
    /is the id of workflow `alpha`; --workflow takes a name\n.*--workflow alpha\n$/,
  );
  const none = await repo.cli(["workflow", "list", "--workflow", "beta", "--status", "failed"]);
  assertEquals(none.stderr, "no runs\n");
});

Deno.test("-q prints only run ids from list and the state from status; -v prints more", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-one.yaml": workflowFile("one", shellStep("hi", "true")),
  });
  const ran = await repo.cli(["workflow", "run", "one", "--json"]);
  const id = (ran.json as { run: { id: string } }).run.id;

  const ids = await repo.cli(["workflow", "list", "-q"]);
  assertEquals([ids.stdout, ids.stderr], [`${id}\n`, ""]);
  const wide = await repo.cli(["workflow", "list", "-v"]);
  const [header, row] = wide.stdout.trimEnd().split("\n");
  assertMatch(header, /^RUN\s+WORKFLOW\s+STATUS\s+ATTEMPT\s+ACTOR\s+CREATED\s+ENDED\s+TOOK/);
  assertMatch(row, new RegExp(`^${id}\\s+one\\s+succeeded\\s+1\\s+`));

  const state = await repo.cli(["workflow", "status", id.slice(0, 8), "-q"]);
  assertEquals([state.stdout, state.stderr], ["succeeded\n", ""]);
  const detail = await repo.cli(["workflow", "status", id, "-v"]);
  assertMatch(
    detail.stdout,
    /^ {2}main\/hi {2}succeeded .*\n {6}started .*, ended .*, exit 0, attempt 1\n/m,
  );
  assertMatch(detail.stdout, /^ {6}process pid \d+ pgid \d+, executor loopback$/m);
  const plain = await repo.cli(["workflow", "status", id]);
  assert(!plain.stdout.includes("process pid"), plain.stdout);
});

Deno.test("-q lists only names from the token and worker lists, and RUN STEP from approvals", async () => {
  await using repo = await repoWith("file", {
    "workflows/gated.yaml": workflowFile("gated", gateStep("ok")),
  });
  for (const name of ["ops-a", "ops-b"]) {
    const made = await repo.cli(["auth", "token", "create", name, "--role", "viewer", "-q"]);
    assertEquals(made.code, 0, made.stderr);
  }
  const made = await repo.cli(["worker", "token", "create", "box-1", "--duration", "1h", "-q"]);
  assertEquals(made.code, 0, made.stderr);

  const tokens = await repo.cli(["auth", "token", "list", "-q"]);
  assertEquals([tokens.code, tokens.stdout, tokens.stderr], [0, "ops-a\nops-b\n", ""]);
  const workerTokens = await repo.cli(["worker", "token", "list", "-q"]);
  assertEquals([workerTokens.code, workerTokens.stdout], [0, "box-1\n"]);
  const full = await repo.cli(["worker", "token", "list"]);
  assertMatch(full.stdout, /^NAME +STATE/);

  const runId = runIdOf(await repo.cli(["workflow", "run", "gated", "--detach"]));
  const gates = await eventually("the gate to wait", async () => {
    const listed = await repo.cli(["workflow", "approvals", "-q"]);
    return listed.stdout !== "" ? listed : undefined;
  });
  assertEquals([gates.code, gates.stdout, gates.stderr], [0, `${runId} main/ok\n`, ""]);
  const approved = await repo.cli([
    "workflow",
    "approve",
    ...gates.stdout.trim().split(" ").flatMap(
      (part, i) => i === 0 ? [part] : ["--step", part],
    ),
    "-q",
  ]);
  assertEquals(approved.code, 0, approved.stderr);
});
