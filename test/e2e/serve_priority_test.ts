// `swamp serve` runs its run thread, and so the local steps it starts, at a
// higher nice value than the thread that answers calls (decision 0038).
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import { repoWith, shellStep, workflowFile } from "../helpers/runs.ts";
import { threadNice } from "../../cli/serve/thread_priority.ts";

/** Three steps, each writing the nice value it ran at (field 19 of its process's stat). */
const steps = ["a", "b", "c"].map((name) =>
  shellStep(name, `cut -d' ' -f19 /proc/self/stat > nice-${name}`)
).join("");
const files = { "workflows/nice.yaml": workflowFile("nice", steps) };

async function stepNices(flags: string[]): Promise<{ steps: string[]; threads: number[] }> {
  await using repo = await repoWith("file", files);
  const operator = await mintToken(repo.root, "op", "operator");
  const server = await startServe(repo.root, flags);
  try {
    const ran = await server.cli(["workflow", "run", "nice", "-q"], operator);
    assertEquals(ran.code, 0, ran.stderr);
    const threads = [...Deno.readDirSync(`/proc/${server.pid}/task`)]
      .map((entry) => threadNice(server.pid, Number(entry.name)));
    // The process's first thread answers calls: it keeps the server's own priority.
    assertEquals(threadNice(server.pid, server.pid), 0);
    const steps = await Promise.all(
      ["a", "b", "c"].map(async (name) =>
        (await Deno.readTextFile(`${repo.root}/nice-${name}`)).trim()
      ),
    );
    return { steps, threads };
  } finally {
    assertEquals(await server.stop(), 0);
  }
}

Deno.test("serve: local steps run at the run thread's nice value 5 while the thread answering calls stays at 0", async () => {
  const { steps, threads } = await stepNices([]);
  assertEquals(steps, ["5", "5", "5"], `threads: ${threads}`);
  assert(threads.includes(5), `no thread at nice 5 among ${threads}`);
});

Deno.test("serve: --runs-nice 0 keeps the run thread and its steps at the server's own priority", async () => {
  const { steps, threads } = await stepNices(["--runs-nice", "0"]);
  assertEquals(steps, ["0", "0", "0"]);
  assertEquals(threads.filter((nice) => nice !== 0), []);
});

Deno.test("serve: --runs-nice outside 0 to 19 is a usage error", async () => {
  for (const value of ["20", "-1", "five"]) {
    const result = await runCli(["serve", "--runs-nice", value, "--listen", "127.0.0.1:0"]);
    assertEquals(result.code, 2, `${value}: ${result.stdout}${result.stderr}`);
    assertMatch(result.stderr, /--runs-nice .* is not a nice value from 0 to 19/);
  }
});
