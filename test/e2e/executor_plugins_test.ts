// Executor plugins through the real CLI: `swamp executor test` on the sample
// third-party executor (docs/examples/executors/nice.ts) and on a broken one,
// modules that cannot load, and the sample used by a real workflow run from a
// repository's extensions/executors/, its `executor:` block checked by
// `workflow validate`.
import {
  assert,
  assertEquals,
  assertMatch,
  repoWith,
  runCli,
  runIdOf,
  statusJson,
} from "../helpers/mod.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const sample = `${root}/docs/examples/executors/nice.ts`;

type Report = {
  executor: { name: string; apiVersion: number };
  promises: { promise: string; result: string; reason?: string }[];
  passed: number;
  failed: number;
  notApplicable: number;
};

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-execplug-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

Deno.test("executor test: the sample executor keeps every promise that applies to it", async () => {
  const result = await runCli(["executor", "test", sample, "--json"]);
  assertEquals(result.code, 0, result.stderr);
  const report = result.json as Report;
  assertEquals([report.executor.name, report.executor.apiVersion], ["nice", 1]);
  assertEquals(report.failed, 0, JSON.stringify(report.promises, null, 1));
  assertEquals(report.passed + report.notApplicable, report.promises.length);
  assert(report.passed >= 20, `${report.passed} passed`);
  // The one promise it does not declare a feature for is not applicable, and says why.
  const oom = report.promises.find((p) => p.promise.includes("memory limit"))!;
  assertEquals(oom.result, "not_applicable");
  assertMatch(oom.reason!, /lacks resourceLimits/);
});

Deno.test("executor test: a broken executor fails, naming the promises it breaks", async () => {
  // The sample, but it drops stderr and leaves background processes running.
  const dir = await tempDir({
    "broken.ts": `import nice from ${JSON.stringify(sample)};
export default (api) => {
  const inner = nice(api);
  return { ...inner, name: "broken", async *dispatch(work, signal) {
    for await (const e of inner.dispatch(work, signal)) {
      if (e.type === "output" && e.stream === "stderr") continue;
      yield e.type === "started" ? { ...e, process: { ...e.process, executor: "broken" } } : e;
    }
  } };
};
`,
  });
  try {
    const result = await runCli(["executor", "test", `${dir}/broken.ts`]);
    assertEquals(result.code, 1, result.stderr);
    assertMatch(result.stdout, /^failed +stdout and stderr are separate lines, in order: /m);
    assertMatch(result.stdout, /^failed +a step that exits at once loses no output: /m);
    assertMatch(result.stdout, /^passed +the step runs in cwd/m);
    assertMatch(result.stderr, /executor_contract_failed/);
    assertMatch(result.stderr, /"stdout and stderr are separate lines, in order"/);
    const json = await runCli(["executor", "test", `${dir}/broken.ts`, "--json"]);
    assertEquals(json.code, 1);
    const failed = (json.json as Report).promises.filter((p) => p.result === "failed");
    assertEquals(failed.map((p) => p.promise), [
      "stdout and stderr are separate lines, in order",
      "a step that exits at once loses no output",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("executor test: a module that throws, or of another API version, is refused by name", async () => {
  const dir = await tempDir({
    "throws.ts": `throw new Error("no config for the frobnicator");\n`,
    "future.ts": `export default { apiVersion: 99, name: "future",
  features: { streamsLogs: true, canCancel: true, resourceLimits: false },
  dispatch() {}, reap() {} };\n`,
    "nothing.ts": `export const unrelated = 1;\n`,
  });
  try {
    const thrown = await runCli(["executor", "test", `${dir}/throws.ts`, "--json"]);
    assertEquals(thrown.code, 3, thrown.stderr);
    const error = (thrown.json as { error: { code: string; message: string } }).error;
    assertEquals(error.code, "executor_load_failed");
    assertMatch(error.message, /throws\.ts could not be imported: .*no config for the frobnicator/);
    const future = await runCli(["executor", "test", `${dir}/future.ts`, "--json"]);
    assertEquals(future.code, 3);
    const refused = (future.json as { error: { code: string; message: string } }).error;
    assertEquals(refused.code, "executor_api_unsupported");
    assertMatch(refused.message, /future\.ts: .*version 99; this build supports 1/);
    const nothing = await runCli(["executor", "test", `${dir}/nothing.ts`, "--json"]);
    assertEquals((nothing.json as { error: { code: string } }).error.code, "executor_invalid");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const workflow = (block: string) =>
  `id: ${crypto.randomUUID()}\nname: niced\njobs:\n  - name: main\n` +
  `    executor: ${block}\n    steps:\n      - name: hello\n        task:\n` +
  `          type: model_method\n          modelType: command/shell\n          modelName: hello\n` +
  `          methodName: execute\n          inputs:\n            run: ${
    JSON.stringify('echo "$GREETING nice=$(cut -d" " -f19 /proc/self/stat)"')
  }\n`;

Deno.test("an extension executor runs a workflow's steps, and validate checks its block", async () => {
  await using repo = await repoWith("file", {
    "extensions/executors/nice.ts": await Deno.readTextFile(sample),
    "workflows/workflow-niced.yaml": workflow("{type: nice, level: 7, env: {GREETING: hi}}"),
  });
  const listed = await repo.cli(["executor", "list", "--json"]);
  assertEquals(listed.code, 0, listed.stderr);
  const nice = (listed.json as { executors: Record<string, unknown>[] }).executors
    .find((e) => e.name === "nice");
  assertEquals(nice?.origin, "extension");
  assertEquals(nice?.path, "extensions/executors/nice.ts");
  assertEquals((await repo.cli(["workflow", "validate", "niced"])).code, 0);
  const result = await repo.cli(["workflow", "run", "niced"]);
  assertEquals(result.code, 0, result.stderr);
  // The step ran through the extension: its env prefix, and the niceness it set.
  assertMatch(result.stdout, /^\[main\/hello\] hi nice=7$/m);
  const run = await statusJson(repo, runIdOf(result));
  const step = run.steps[0] as typeof run.steps[0] & { process?: { executor?: string } };
  assertEquals(step.process?.executor, "nice");

  // A block the executor's schema refuses: each problem where it is.
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-niced.yaml`,
    workflow("{type: nice, level: 40, colour: red}"),
  );
  const bad = await repo.cli(["workflow", "validate", "niced", "--json"]);
  assertEquals(bad.code, 3, bad.stderr);
  type Result = { diagnostics: { line: number; path: string; message: string }[] };
  const found = (bad.json as { results: Result[] }).results[0].diagnostics;
  assert(found.length >= 2, JSON.stringify(found));
  assert(found.every((d) => d.line === 5), JSON.stringify(found));
  assert(found.some((d) => /colour/.test(d.message)), JSON.stringify(found));
  assert(found.some((d) => d.path.includes("level")), JSON.stringify(found));
});

Deno.test("an extension executor that throws on import is a clear error naming its file", async () => {
  await using repo = await repoWith("file", {
    "extensions/executors/broken.ts": `throw new Error("missing licence key");\n`,
    "workflows/workflow-niced.yaml": workflow("{type: loopback}"),
  });
  const result = await repo.cli(["workflow", "validate", "niced"]);
  assertEquals(result.code, 3, result.stderr);
  assertMatch(
    result.stderr,
    /executor module extensions\/executors\/broken\.ts could not be imported: .*missing licence key/,
  );
  const listed = await repo.cli(["executor", "list", "--json"]);
  assertEquals((listed.json as { error: { code: string } }).error.code, "executor_load_failed");
});

Deno.test("the sample executor type-checks against the published author API", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", `--config=${root}/deno.json`, sample],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
});
