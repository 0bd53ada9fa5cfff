// A lock named by a template is the name its expression gives (issue 17):
// `locks: ["deploy-${{ inputs.env }}"]` takes lock:deploy-prod, the name
// `workflow evaluate` shows, never the template text; a name that does not
// resolve refuses the run before it is created.
import {
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  shellStep,
  statusJson,
} from "../helpers/mod.ts";

const deploy = `id: 5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d
name: deploy
inputs:
  properties:
    env: {type: string}
  required: [env]
locks: ["deploy-\${{ inputs.env }}", "fleet"]
jobs:
  - name: main
    steps:
${shellStep("ship", "sleep 2")}`;

Deno.test("a templated lock name is resolved from the inputs, as evaluate shows it", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-deploy.yaml": deploy });
  const evaluated = await repo.cli([
    "workflow",
    "evaluate",
    "deploy",
    "--input",
    "env=prod",
    "--json",
  ]);
  assertEquals(evaluated.code, 0, evaluated.stderr);
  assertEquals((evaluated.json as { definition: { locks: string[] } }).definition.locks, [
    "deploy-prod",
    "fleet",
  ]);
  const ran = await repo.cli(["workflow", "run", "deploy", "--input", "env=prod", "--detach"]);
  assertEquals(ran.code, 0, ran.stderr);
  const runId = ran.stdout.split("\n")[0];
  // While it runs, the lock it holds has the resolved name.
  const held = await eventually("the run holding its locks", async () => {
    const run = await statusJson(repo, runId);
    return run.locks?.length ? run.locks : undefined;
  });
  assertEquals(held.filter((l) => l.startsWith("lock:")), ["lock:deploy-prod", "lock:fleet"]);
  assertEquals((await repo.cli(["workflow", "wait", runId])).code, 0);
  const got = await repo.cli(["workflow", "status", runId, "--json"]);
  const definition = (got.json as { run: { definition: { locks: string[] } } }).run.definition;
  assertEquals(definition.locks, ["deploy-prod", "fleet"]);
  // A name that does not resolve to text refuses the run: none is created.
  const broken = deploy.replace("deploy-${{ inputs.env }}", "${{ inputs.env == 'x' }}");
  await Deno.writeTextFile(`${repo.root}/workflows/workflow-deploy.yaml`, broken);
  const refused = await repo.cli(["workflow", "run", "deploy", "--input", "env=prod"]);
  assertEquals(refused.code, 3, refused.stderr);
  assertMatch(refused.stderr, /resolves to false, not a lock name/);
});
