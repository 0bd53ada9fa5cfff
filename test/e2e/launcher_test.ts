// The path a user takes: the `cli/swamp` launcher, which runs a bundle of the
// CLI from node_modules/.cache. Every other end-to-end test runs the sources,
// so this one checks what the bundle must find beside it or through the
// checkout: the CEL sandbox's WebAssembly and the CEL library, and the
// PostgreSQL driver's CommonJS `require`, which the launcher makes lazy so no
// other command starts Deno's Node layer.
import { testNeeding } from "../helpers/capabilities.ts";
import { startPostgres } from "../helpers/postgres.ts";
import { removeTree } from "../helpers/standby.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  runLauncher,
  shellStep,
  swampLauncher,
  workflowFile,
} from "../helpers/mod.ts";

const withExpression = workflowFile(
  "greet",
  `      - name: hello
        task:
          type: model_method
          modelType: command/shell
          modelName: hello
          methodName: execute
          inputs:
            run: "echo hello \${{ inputs.who }}"
`,
  "inputs:\n  properties:\n    who: {type: string, default: world}\n",
);

function launch(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runLauncher(args, cwd, env);
}

Deno.test("the launcher's bundle validates, evaluates and runs a workflow with expressions, its supervisor from the bundle too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-launcher-" });
  try {
    const init = await launch(["repo", "init", dir, "-q"], dir);
    assertEquals(init.code, 0, init.stderr);
    await Deno.writeTextFile(`${dir}/workflows/workflow-greet.yaml`, withExpression);
    const validated = await launch(["workflow", "validate", "--all"], dir);
    assertEquals(validated.code, 0, validated.stderr);
    const evaluated = await launch(["workflow", "evaluate", "greet", "--input", "who=ada"], dir);
    assertEquals(evaluated.code, 0, evaluated.stderr);
    assertMatch(evaluated.stdout, /run: echo hello ada/);
    const ran = await launch(["workflow", "run", "greet"], dir);
    assertEquals(ran.code, 0, ran.stderr);
    assertMatch(ran.stdout, /^\[main\/hello\] hello world$/m);
    // The step's parent is the run's supervisor: started from the same bundle,
    // not from the sources, so a run starts as fast as the CLI does.
    await Deno.writeTextFile(
      `${dir}/workflows/workflow-parent.yaml`,
      workflowFile("parent", shellStep("parent", "tr '\\0' ' ' < /proc/$PPID/cmdline")),
    );
    const parent = await launch(["workflow", "run", "parent"], dir);
    assertEquals(parent.code, 0, parent.stderr);
    assertMatch(parent.stdout, /^\[main\/parent\] .*--no-config \S*\/supervise\.js /m);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("the launcher runs `swamp serve` with V8's own young generation, other commands with a small one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-launcher-serve-" });
  try {
    // SQLite: the server also starts its checkpoint thread, a module of the bundle of its own.
    const init = await launch(["repo", "init", dir, "--store", "sqlite", "-q"], dir);
    assertEquals(init.code, 0, init.stderr);
    // The step prints the command line of its parent's parent: with nothing waiting to take the
    // run, its supervisor is a child of the `workflow run` command itself.
    await Deno.writeTextFile(
      `${dir}/workflows/workflow-grandparent.yaml`,
      workflowFile(
        "grandparent",
        shellStep("show", "tr '\\0' ' ' < /proc/$(cut -d' ' -f4 /proc/$PPID/stat)/cmdline"),
      ),
    );
    const ran = await launch(["workflow", "run", "grandparent"], dir, { SWAMP_STANDBY_IDLE: "0" });
    assertEquals(ran.code, 0, ran.stderr);
    assertMatch(
      ran.stdout,
      /^\[main\/show\] .*--v8-flags=--max-semi-space-size=1 --no-config \S*\/main\.js workflow run grandparent/m,
    );
    const server = new Deno.Command(swampLauncher, {
      args: ["serve", "--repo", dir, "--json", "--listen", "127.0.0.1:0"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(server.stderr).text();
    try {
      const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let printed = "";
      while (!printed.includes('"listening"')) {
        const { value, done } = await reader.read();
        if (done) break;
        printed += value;
      }
      reader.releaseLock();
      assertMatch(printed, /"event":"listening"/);
      assert(!printed.includes('"event":"error"'), printed);
      // The launcher execs Deno in its own process: the server's pid is the launcher's.
      const argv = Deno.readTextFileSync(`/proc/${server.pid}/cmdline`).split("\0");
      assert(argv.some((arg) => arg.endsWith("/main.js")), argv.join(" "));
      assert(argv.includes("serve"), argv.join(" "));
      assertEquals(argv.filter((arg) => arg.includes("semi-space")), []);
    } finally {
      server.kill("SIGTERM");
      const { code } = await server.status;
      await server.stdout.cancel().catch(() => {});
      assertEquals(code, 0, await stderr);
    }
  } finally {
    await removeTree(dir);
  }
});

await testNeeding(
  "postgres",
  "the launcher's bundle runs a workflow on a PostgreSQL store (the driver's require loads on demand)",
  async () => {
    const cluster = await startPostgres();
    const dir = await Deno.makeTempDir({ prefix: "swamp-launcher-pg-" });
    try {
      const dsn = await cluster.createDatabase();
      const init = await launch(
        ["repo", "init", dir, "--store", "postgres", "--dsn", dsn, "-q"],
        dir,
      );
      assertEquals(init.code, 0, init.stderr);
      await Deno.writeTextFile(
        `${dir}/workflows/workflow-hi.yaml`,
        workflowFile("hi", shellStep("hi", "echo hi from postgres")),
      );
      const ran = await launch(["workflow", "run", "hi"], dir);
      assertEquals(ran.code, 0, ran.stderr);
      assertMatch(ran.stdout, /^\[main\/hi\] hi from postgres$/m);
      const listed = await launch(["workflow", "list", "--json"], dir);
      assertEquals(listed.code, 0, listed.stderr);
      assertMatch(listed.stdout, /"status": "succeeded"/);
    } finally {
      try {
        await removeTree(dir);
      } finally {
        await cluster.stop();
      }
    }
  },
);
