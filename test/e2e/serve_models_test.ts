// A repository changes under a running `swamp serve`: what the server accepts
// at submit, the runs it executes must know too.
import { assertEquals, assertMatch, repoWith } from "../helpers/mod.ts";
import { mintToken, startServe } from "../helpers/serve.ts";

Deno.test("a model definition added after swamp serve started is known to the runs it executes", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-early.yaml": `id: ${crypto.randomUUID()}\nname: early\njobs:\n` +
      "  - name: main\n    steps:\n      - name: hi\n        task: {type: model_method, " +
      'modelType: command/shell, modelName: hi, methodName: execute, inputs: {run: "true"}}\n',
  });
  const token = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root);
  try {
    // A first run starts the server's run thread, which loads the models as they are then.
    const early = await server.cli(["workflow", "run", "early"], token);
    assertEquals(early.code, 0, early.stdout + early.stderr);
    // Added only now, after the run thread loaded the models.
    await Deno.mkdir(`${repo.root}/models/command/shell`, { recursive: true });
    await Deno.writeTextFile(
      `${repo.root}/models/command/shell/late.yaml`,
      `id: ${crypto.randomUUID()}\nname: late\nversion: 1\n`,
    );
    await Deno.writeTextFile(
      `${repo.root}/workflows/workflow-late.yaml`,
      `id: ${crypto.randomUUID()}\nname: late\njobs:\n  - name: main\n    steps:\n` +
        "      - name: greet\n        task: {type: model_method, modelIdOrName: late, " +
        'methodName: execute, inputs: {run: "echo late-model-ran"}}\n',
    );
    const run = await server.cli(["workflow", "run", "late"], token);
    assertEquals(run.code, 0, run.stdout + run.stderr);
    assertMatch(run.stdout, /late-model-ran/);
  } finally {
    await server.kill();
  }
});
