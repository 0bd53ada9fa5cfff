import { assertEquals, makeTempRepo, runServiceFor } from "../../test/helpers/mod.ts";

const uuid = "0b7d4e1c-2f6a-4c1e-9a43-5d2b8e6f7a10";

function workflow(stepExtra: string, top = "", type = "model_method"): string {
  const task = type === "model_method"
    ? "          type: model_method\n          modelType: command/shell\n" +
      "          modelName: a\n          methodName: execute\n          inputs:\n            run: echo a\n"
    : "          type: manual_approval\n          prompt: ok?\n";
  return `id: ${uuid}\nname: r\n${top}jobs:\n  - name: main\n    steps:\n      - name: a\n` +
    `${stepExtra}        task:\n${task}`;
}

async function findings(text: string): Promise<string[]> {
  await using repo = await makeTempRepo({ "workflows/workflow-r.yaml": text });
  const service = await runServiceFor(repo.root);
  const response = await service.validateWorkflows({ all: true });
  return response.results.flatMap((r) =>
    r.diagnostics.map((d) => `${d.rule}@${d.line}:${d.column} ${d.message}`)
  );
}

Deno.test("retry and timeouts in their accepted shapes are valid", async () => {
  assertEquals(
    await findings(workflow("        retry: {attempts: 3}\n        timeout: 1m30s\n")),
    [],
  );
  assertEquals(
    await findings(workflow(
      "        retry:\n          attempts: 5\n          backoff: {initial: 1s, max: 1m, factor: 3}\n",
      "timeout: 2h\n",
    )),
    [],
  );
  assertEquals(await findings(workflow("        retry: {attempts: 2, backoff: 30}\n")), []);
});

Deno.test("retry out of bounds is reported at its line", async () => {
  const [attempts] = await findings(workflow("        retry: {attempts: 11}\n"));
  assertEquals(attempts.split(" ")[0].split("@")[1].split(":")[0], "7");
  assertEquals(attempts.includes("at most 10"), true, attempts);
  const [zero] = await findings(workflow("        retry: {attempts: 0}\n"));
  assertEquals(zero.includes("at least 1"), true, zero);
  const [long] = await findings(workflow("        retry: {attempts: 2, backoff: 2h}\n"));
  assertEquals(long, "invalid-value@7:39 a retry backoff of `2h` is longer than the limit of 1h");
  const [shorter] = await findings(
    workflow("        retry: {attempts: 2, backoff: {initial: 1m, max: 10s}}\n"),
  );
  assertEquals(shorter.startsWith("invalid-value@7:") && shorter.includes("shorter than"), true);
  const [badText] = await findings(workflow("        timeout: soon\n"));
  assertEquals(badText.includes("duration like 30s"), true, badText);
});

Deno.test("retry on a gate is refused; a step timeout on a gate is a warning", async () => {
  const gate = await findings(workflow("        retry: {attempts: 2}\n", "", "manual_approval"));
  assertEquals(gate.length, 1);
  assertEquals(gate[0].includes("`retry` has no effect on a manual_approval gate"), true, gate[0]);
  const timeout = await findings(workflow("        timeout: 1m\n", "", "manual_approval"));
  assertEquals(timeout.length, 1);
  assertEquals(timeout[0].startsWith("inert-key@7:"), true, timeout[0]);
});
