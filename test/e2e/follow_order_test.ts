// What a person sees following a run in a terminal: stdout (the log) and
// stderr (the progress) in one place, in the order things happened.
import { assertEquals, repoWith, shellStep, workflowFile } from "../helpers/mod.ts";

Deno.test("a followed run prints each step's output between its start and its end", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-lines.yaml": workflowFile(
      "lines",
      shellStep("a", "for i in 1 2 3; do echo line $i; done") +
        shellStep(
          "b",
          "echo b1; echo b2",
          "        dependsOn: [{step: a, condition: {type: succeeded}}]\n",
        ),
    ),
  });
  const result = await repo.cli(["workflow", "run", "lines"], undefined, { interleaved: true });
  const text = result.stdout;
  assertEquals(result.code, 0, text);
  const lines = text.trim().split("\n").slice(1, -1); // the run id first, the outcome last
  assertEquals(lines, [
    "• run running",
    "• main/a running",
    "[main/a] line 1",
    "[main/a] line 2",
    "[main/a] line 3",
    "• main/a succeeded",
    "• main/b running",
    "[main/b] b1",
    "[main/b] b2",
    "• main/b succeeded",
    "• run succeeded",
  ]);
});
