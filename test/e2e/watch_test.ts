// Watching a run (issue 17): on a real pseudo-terminal `workflow run` and
// `workflow watch` show a live summary redrawn in place, with failures above
// it by their evaluated names; not on a terminal, a line per change; under
// --json, NDJSON from the first event on, ending with the run's state.
import {
  assert,
  assertEquals,
  assertMatch,
  repoWith,
  runIdOf,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/mod.ts";
import { testNeeding } from "../helpers/capabilities.ts";
import { runCliOnPty, screenLines } from "../helpers/pty.ts";
import { cliArgv } from "../helpers/cli.ts";

/** A fan-out of `n` items named `each <i>`; items whose index is 7 modulo 50 fail. */
function fanOut(n: number, failing = true): string {
  const items = Array.from({ length: n }, (_, i) => i).join(",");
  const run = failing ? "[ $((SWAMP_ITEM_INDEX % 50)) -ne 7 ] || exit 3" : "true";
  return workflowFile(
    "fan",
    `      - name: "each \${{ self.x }}"
        forEach: {item: x, in: [${items}]}
        task: {type: model_method, modelType: command/shell, modelName: fan, methodName: execute, inputs: {run: "${run}"}}
`,
  );
}

const failingOf200 = [7, 57, 107, 157];
const width = 100;

await testNeeding(
  "pty",
  "on a terminal, run shows a live summary of a 200-item fan-out, failures above it by name",
  async () => {
    await using repo = await repoWith("file", { "workflows/workflow-fan.yaml": fanOut(200) });
    const result = await runCliOnPty(["workflow", "run", "fan", "--repo", repo.root], {
      columns: width,
    });
    assertEquals(result.code, 1, result.transcript);
    const lines = screenLines(result.transcript);
    // The last frame stays: the counts of the whole fan-out.
    const finalFrame = lines.findLast((line) => /^run [0-9a-f]{8} /.test(line));
    assertMatch(
      finalFrame ?? "",
      /^run [0-9a-f]{8} failed {2}\d+\S* {2}196 of 200 succeeded, 4 failed$/,
    );
    // Each failure once, above the summary, by its evaluated name.
    for (const index of failingOf200) {
      const shown = lines.filter((line) => line.startsWith(`✗ main/each ${index} failed`));
      assertEquals(shown.length, 1, `item ${index}:\n${lines.join("\n")}`);
      assertMatch(shown[0], /exited with status 3$/);
    }
    // No line per item state change, no unevaluated names, nothing wider than the terminal.
    assert(!lines.some((line) => line.startsWith("• ")), lines.join("\n"));
    assert(!result.transcript.includes("${{"), result.transcript);
    for (const line of lines) assert(line.length < width, `too wide: ${line}`);
    // Redrawn in place, and NO_COLOR honoured: cursor movement but no colour.
    assert(result.transcript.includes("\x1b[J"), "the summary is never erased and redrawn");
    assert(!result.transcript.includes("\x1b[31m"), "colour despite NO_COLOR");
  },
);

await testNeeding(
  "pty",
  "watch of a 1,000-item fan-out counts all of it and stays bounded in memory",
  async () => {
    await using repo = await repoWith("file", {
      "workflows/workflow-fan.yaml": fanOut(1000, false),
    });
    const started = await repo.cli(["workflow", "run", "fan", "--detach"]);
    assertEquals(started.code, 0, started.stderr);
    const runId = runIdOf(started);
    const watched = await runCliOnPty(["workflow", "watch", runId, "--repo", repo.root]);
    assertEquals(watched.code, 0, watched.transcript);
    const lines = screenLines(watched.transcript);
    assertMatch(
      lines.findLast((line) => /^run [0-9a-f]{8} /.test(line)) ?? "",
      /1000 of 1000 succeeded$/,
    );
    assert(!lines.some((line) => line.startsWith("• ")), "a line per item");

    // Reading the same run once, as `status` does, measured in the same test, is the baseline:
    // the live summary keeps counts, not the events, so watching costs little more than that.
    const status = await runCliOnPty(["workflow", "status", runId, "--repo", repo.root]);
    assertEquals(status.code, 0, status.transcript);
    const growthMib = (watched.maxRssKib - status.maxRssKib) / 1024;
    console.log(`peak memory: watch ${watched.maxRssKib} KiB, status ${status.maxRssKib} KiB`);
    assert(growthMib < 64, `watching took ${growthMib.toFixed(1)} MiB more than reading the run`);
  },
);

Deno.test("not on a terminal, run prints a line per item state change", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-fan.yaml": fanOut(200) });
  const result = await repo.cli(["workflow", "run", "fan"]);
  assertEquals(result.code, 1, result.stderr);
  const lines = result.stderr.split("\n");
  const ended = (status: string) =>
    lines.filter((line) => new RegExp(`^• main/each \\d+ ${status}`).test(line)).length;
  assertEquals([ended("running"), ended("succeeded"), ended("failed")], [200, 196, 4]);
  assert(!(result.stdout + result.stderr).includes("\x1b["), "escape sequences off a terminal");
});

Deno.test("--json streams NDJSON from the first event, before the run ends, then the run's state", async () => {
  await using repo = await repoWith("file", {});
  const gate = `while [ -d ${repo.root} ] && [ ! -e ${repo.root}/go ]; do sleep 0.1; done`;
  await Deno.mkdir(`${repo.root}/workflows`, { recursive: true });
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-gated.yaml`,
    workflowFile("gated", shellStep("wait", `echo started; ${gate}; echo done`)),
  );
  const [program, ...args] = cliArgv(["workflow", "run", "gated", "--json", "--repo", repo.root]);
  const child = new Deno.Command(program, {
    args,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
  }
  const first = JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
  assertEquals(first.event.seq, 1);
  assertEquals(first.event.runCreated.run.workflowName, "gated");
  // The run has not ended: its step waits for the file only this test creates.
  const runId = first.event.runId as string;
  assert(!["succeeded", "failed"].includes((await statusJson(repo, runId)).status));

  await Deno.writeTextFile(`${repo.root}/go`, "");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
  }
  const status = await child.status;
  assertEquals(status.code, 0, await stderr);
  const lines = buffered.trimEnd().split("\n").map((line) => JSON.parse(line));
  const last = lines.pop();
  assertEquals(last.run.id, runId);
  assertEquals(last.run.status, "succeeded");
  // Every other line is an event or a log line, in the CLI's JSON shape.
  for (const line of lines) assert("event" in line || "line" in line, JSON.stringify(line));
  assertEquals(
    lines.filter((l) => l.line).map((l) => l.line.text),
    ["started", "done"],
  );
  const statuses = lines.flatMap((l) =>
    l.event?.runStatusChanged ? [l.event.runStatusChanged.to] : []
  );
  assertEquals(statuses.at(-1), "succeeded");
});
