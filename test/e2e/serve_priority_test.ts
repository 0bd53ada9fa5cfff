// `swamp serve` runs its run thread, and so the local steps it starts, at a
// higher nice value than the thread that answers calls (decision 0038).
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import {
  eventually,
  repoWith,
  runIdOf,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/runs.ts";

/** The nice value of thread `tid` of process `pid` (field 19 of its stat; its name may hold spaces). */
function threadNice(pid: number, tid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

/** Three steps with nothing between them, so they run at once, each for as long as it is let. */
const steps = ["a", "b", "c"].map((name) => shellStep(name, "sleep 30")).join("");
const files = { "workflows/nice.yaml": workflowFile("nice", steps) };

/**
 * The nice values of the steps' processes, read once the run records them
 * running (after their spawn returned, so after they were given their value),
 * and of the server's threads.
 */
async function stepNices(flags: string[]): Promise<{ steps: number[]; threads: number[] }> {
  await using repo = await repoWith("file", files);
  const operator = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root, flags);
  try {
    const ran = await server.cli(["workflow", "run", "nice", "--detach"], operator);
    assertEquals(ran.code, 0, ran.stderr);
    const runId = runIdOf(ran);
    const running = await eventually("the three steps to run", async () => {
      const run = await statusJson(repo, runId);
      const pids = run.steps.map((step) => step.process?.pid).filter((pid) => pid !== undefined);
      return pids.length === 3 ? pids : undefined;
    });
    const steps = running.map((pid) => threadNice(pid, pid));
    const threads = [...Deno.readDirSync(`/proc/${server.pid}/task`)]
      .map((entry) => threadNice(server.pid, Number(entry.name)));
    // The process's first thread answers calls: it keeps the server's own priority.
    assertEquals(threadNice(server.pid, server.pid), 0);
    const cancelled = await server.cli(["workflow", "cancel", runId], operator);
    assertEquals(cancelled.code, 0, cancelled.stderr);
    return { steps, threads };
  } finally {
    assertEquals(await server.stop(), 0);
  }
}

Deno.test("serve: local steps run at the run thread's nice value 5 while the thread answering calls stays at 0", async () => {
  const { steps, threads } = await stepNices([]);
  assertEquals(steps, [5, 5, 5], `threads: ${threads}`);
  assert(threads.includes(5), `no thread at nice 5 among ${threads}`);
});

Deno.test("serve: --runs-nice 0 keeps the run thread and its steps at the server's own priority", async () => {
  const { steps, threads } = await stepNices(["--runs-nice", "0"]);
  assertEquals(steps, [0, 0, 0]);
  assertEquals(threads.filter((nice) => nice !== 0), []);
});

Deno.test("serve: --runs-nice outside 0 to 19 is a usage error", async () => {
  for (const value of ["20", "-1", "five"]) {
    const result = await runCli(["serve", "--runs-nice", value, "--listen", "127.0.0.1:0"]);
    assertEquals(result.code, 2, `${value}: ${result.stdout}${result.stderr}`);
    assertMatch(result.stderr, /--runs-nice .* is not a nice value from 0 to 19/);
  }
});
