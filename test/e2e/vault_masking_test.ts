// A secret read with vault.get never reaches anything a run writes in plain
// text: every file under the repository, status, logs and the --json of each.
import {
  assert,
  assertEquals,
  assertMatch,
  repoWith,
  shellStep,
  storeKinds,
} from "../helpers/mod.ts";
import { vaultEnv, vaultPut } from "../helpers/vault.ts";

const secret = "Zq7-vault-masking-Secret";

const workflow = `id: 6c2a1b9e-4d3e-4f70-8a1b-3c4d5e6f7a8b
name: leaky
jobs:
  - name: main
    steps:
${
  shellStep(
    "echoes",
    'echo "script says ${{ vault.get("v", "k") }}"; echo "env says $TOKEN"; ' +
      'echo "twice $TOKEN$TOKEN"; printf "%s" "$TOKEN" > /dev/null',
  )
}            env: {TOKEN: '\${{ vault.get("v", "k") }}'}
${
  shellStep(
    "fails",
    'echo "failing with $TOKEN" >&2; exit 7',
  )
}            env: {TOKEN: '\${{ "pre-" + vault.get("v", "k") }}'}
      - name: converts
        task: {type: model_method, modelType: command/shell, modelName: converts, methodName: execute, inputs: {run: 'echo \${{ int(vault.get("v", "k")) }}'}}
      - name: fans
        forEach: {item: x, in: '\${{ [vault.get("v", "k"), "plain"] }}'}
        task: {type: model_method, modelType: command/shell, modelName: fans, methodName: execute, inputs: {run: 'echo "item \${{ self.x }}"'}}
      - name: missing
        task: {type: model_method, modelType: command/shell, modelName: missing, methodName: execute, inputs: {run: 'echo \${{ vault.get("v", "nope") }}'}}
      - name: nests
        task: {type: workflow, workflowIdOrName: child, inputs: {pw: '\${{ vault.get("v", "k") }}'}}
      - name: asserts
        task: {type: assert, expr: 'vault.get("v", "k") == "nope"', message: 'secret was \${{ vault.get("v", "k") }}'}
`;

const child = `id: 7d3b2c1f-5e4f-4a81-9b2c-4d5e6f708193
name: child
inputs:
  properties:
    pw: {type: string}
jobs:
  - name: main
    steps:
${shellStep("inner", 'echo "child got \${{ inputs.pw }}"')}`;

/** Every file under `dir`, recursively. */
async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

for (const store of storeKinds) {
  Deno.test(`[${store}] a vault secret is masked in every file, status and log a run writes`, async () => {
    await using repo = await repoWith(store, {
      "workflows/workflow-leaky.yaml": workflow,
      "workflows/workflow-child.yaml": child,
    });
    // The key file lives outside the repository (one inside it is refused).
    const state = await Deno.makeTempDir({ prefix: "swamp-vault-state-" });
    await using _cleanup = {
      [Symbol.asyncDispose]: () => Deno.remove(state, { recursive: true }),
    };
    const env = vaultEnv(state);
    const cli = (args: string[]) => repo.cli(args, env);
    assertEquals((await cli(["vault", "create", "v"])).code, 0);
    const put = await vaultPut(repo.root, "v", "k", `${secret}\n`, env);
    assertEquals(put.code, 0, put.stderr);

    const validated = await cli(["workflow", "validate", "leaky"]);
    assertEquals(validated.code, 0, validated.stdout + validated.stderr);
    const evaluated = await cli(["workflow", "evaluate", "leaky"]);
    assertMatch(evaluated.stdout, /script says \*\*\*/);

    const ran = await cli(["workflow", "run", "leaky"]);
    assertEquals(ran.code, 1, ran.stderr);
    const runId = ran.stdout.split("\n")[0];
    const ranJson = await cli(["workflow", "run", "leaky", "--json"]);
    const outputs: string[] = [evaluated.stdout, ran.stdout, ran.stderr, ranJson.stdout];
    for (const id of [runId, (ranJson.json as { run?: { id: string } })?.run?.id ?? runId]) {
      for (const args of [["status", id], ["logs", id]]) {
        for (const extra of [[], ["--json"], ["-v"]]) {
          const shown = await cli(["workflow", ...args, ...extra]);
          outputs.push(shown.stdout, shown.stderr);
        }
      }
    }
    for (const text of outputs) assert(!text.includes(secret), `plain secret in:\n${text}`);

    const logs = (await cli(["workflow", "logs", runId])).stdout;
    assertMatch(logs, /script says \*\*\*$/m);
    assertMatch(logs, /env says \*\*\*$/m);
    assertMatch(logs, /twice \*\*\*\*\*\*$/m);
    assertMatch(logs, /failing with pre-\*\*\*$/m);
    assertMatch(logs, /item \*\*\*$/m);
    assertMatch(logs, /item plain$/m);
    const status = await cli(["workflow", "status", runId, "--json"]);
    const steps = Object.fromEntries(
      (status.json as {
        run: { steps: { id: string; reason: string; outputs?: { stdout?: string } }[] };
      })
        .run.steps.map((s) => [s.id, s]),
    );
    assertEquals(
      steps["main/echoes"].outputs?.stdout,
      "script says ***\nenv says ***\ntwice ******\n",
    );
    assertEquals(steps["main/fails"].reason, "exited with status 7");
    assertMatch(steps["main/asserts"].reason, /^assertion failed: secret was \*\*\*$/);
    assertMatch(steps["main/converts"].reason, /\*\*\*|int/);
    assertEquals(
      steps["main/missing"].reason,
      'secret_not_found: vault.get("v", "nope"): vault v has no key nope',
    );
    assertMatch(
      steps["main/nests"].reason,
      /^a secret \(vault.get\) cannot be a nested workflow's input/,
    );

    // Every byte the run wrote (the store, its logs, caches, locks), and the vault file itself.
    let checked = 0;
    for await (const path of files(repo.root)) {
      const text = new TextDecoder().decode(await Deno.readFile(path));
      assert(!text.includes(secret), `${path} holds the secret in plain text`);
      checked++;
    }
    assert(checked > 5, `only ${checked} files checked`);
  });
}
