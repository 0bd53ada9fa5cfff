// What the listing commands print by default, with -q and with -v, and the hints they give.
import { assert, assertEquals, assertMatch, runCli } from "../helpers/mod.ts";

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
  "      - name: s",
  "        task: {type: model_method, modelIdOrName: nope, methodName: execute}",
  "      - name: t",
  "        task: {type: model_method, modelIdOrName: nope, methodName: execute}",
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
