// A run whose supervisor is gone before it claimed the run is abandoned at
// once by the command that started it, which saw it go (issue 17), instead of
// reading `pending` until the 30 s grace for an owner to start runs out.
import {
  assertEquals,
  assertMatch,
  eventually,
  repoWith,
  runCli,
  runIdOf,
  shellStep,
  statusJson,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

const workflow = { "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("a", "true")) };

/** The directory on PATH that holds `name`. */
function onPath(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not in this one.
    }
  }
  throw new Error(`no ${name} on PATH`);
}

/** The id in a `run … was abandoned` error. */
function abandonedRunId(stderr: string): string {
  const match = stderr.match(/run ([0-9a-f-]{36}) was abandoned/);
  if (!match) throw new Error(`no abandoned run in: ${stderr}`);
  return match[1];
}

for (const store of storeKinds) {
  Deno.test(`[${store}] a supervisor that exits before claiming its run: abandoned at once, and why`, async () => {
    await using repo = await repoWith(store, workflow);
    // The real supervisor, started as setsid would start it but in an environment it cannot
    // start in (the CLI itself checks its own): it fails in its start-up, before any claim.
    const bin = `${repo.root}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/setsid`,
      `#!/bin/sh\nSWAMP_HOST_MAX_STEPS=lots exec ${onPath("setsid")} "$@"\n`,
      { mode: 0o755 },
    );
    const path = { PATH: `${bin}:${Deno.env.get("PATH")}` };

    const result = await repo.cli(["workflow", "run", "quick"], path);
    assertEquals(result.code, 11, result.stderr);
    assertEquals(result.stdout, "");
    const reason = "its supervisor exited with status 1 before claiming the run";
    assertMatch(
      result.stderr,
      new RegExp(`^error\\[run_abandoned\\]: run \\S+ was abandoned: ${reason}`),
    );
    assertMatch(result.stderr, /\.swamp\/supervisor\.log/);

    // Read once, right after the command: not judged later by a read, recorded by the command.
    const runId = abandonedRunId(result.stderr);
    const run = await statusJson(repo, runId);
    assertEquals([run.status, run.reason], ["abandoned", reason]);
    assertEquals(run.steps[0].status, "abandoned");
    assertEquals(run.owner?.pid ?? 0, 0);
    const text = await repo.cli(["workflow", "status", runId]);
    assertMatch(text.stdout, new RegExp(reason));
    const log = await Deno.readTextFile(`${repo.root}/.swamp/supervisor.log`);
    assertMatch(log, new RegExp(`run ${runId} .*SWAMP_HOST_MAX_STEPS is \`lots\``));
  });

  Deno.test(`[${store}] a supervisor that cannot be started: the run is abandoned at once`, async () => {
    await using repo = await repoWith(store, workflow);
    // A PATH without setsid (as on a system that has none).
    const empty = `${repo.root}/empty-bin`;
    await Deno.mkdir(empty);

    const result = await repo.cli(["workflow", "run", "quick", "--detach"], { PATH: empty });
    assertEquals(result.code, 11, result.stderr);
    assertMatch(
      result.stderr,
      /^error\[run_abandoned\]: run \S+ was abandoned: its supervisor could not be started: /,
    );
    const run = await statusJson(repo, abandonedRunId(result.stderr));
    assertEquals(run.status, "abandoned");
    assertMatch(run.reason ?? "", /^its supervisor could not be started: .*setsid/);
  });
}

/** Pids of live supervisor processes whose environment holds `marker` (as SWAMP_TEST_MARKER). */
async function supervisorsMarked(marker: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (!/supervise\.(ts|js)/.test(cmdline)) continue;
    const environ = await Deno.readTextFile(`/proc/${entry.name}/environ`).catch(() => "");
    if (environ.split("\0").includes(`SWAMP_TEST_MARKER=${marker}`)) found.push(Number(entry.name));
  }
  return found;
}

Deno.test("`workflow run` hands its run to a supervisor it started ahead, and leaves none when it creates no run", async () => {
  await using repo = await repoWith("file", {
    "workflows/workflow-parent.yaml": workflowFile(
      "parent",
      shellStep("parent", "tr '\\0' ' ' < /proc/$PPID/cmdline"),
    ),
  });
  const marker = crypto.randomUUID();
  const env = { SWAMP_TEST_MARKER: marker };
  const ran = await repo.cli(["workflow", "run", "parent"], env);
  assertEquals(ran.code, 0, ran.stderr);
  // The step's parent is the supervisor: the one started ahead, whose command line names no run,
  // only where to find the repository it opens while the command creates the run.
  const logs = await repo.cli(["workflow", "logs", runIdOf(ran)]);
  const started = logs.stdout.match(
    /^\[main\/parent\] .*supervise\.(?:ts|js) --standby (\S+)\s*$/m,
  );
  assertEquals(started?.[1], repo.root, logs.stdout);
  // --repo relative and roundabout: the supervisor looks where the command does.
  const name = repo.root.slice(repo.root.lastIndexOf("/") + 1);
  const parent = repo.root.slice(0, repo.root.lastIndexOf("/"));
  const roundabout = await runCli(
    ["workflow", "run", "parent", "--repo", `./${name}/../${name}/`],
    {
      cwd: parent,
      env,
    },
  );
  assertEquals(roundabout.code, 0, roundabout.stderr);
  const again = await repo.cli(["workflow", "logs", runIdOf(roundabout)]);
  assertMatch(again.stdout, new RegExp(`--standby ${repo.root}\\s*$`, "m"));

  // A command that fails before it creates a run leaves no supervisor behind.
  const failed = await repo.cli(["workflow", "run", "nosuch"], env);
  assertEquals(failed.code, 4, failed.stderr);
  await eventually("the supervisor started ahead to exit", async () => {
    return (await supervisorsMarked(marker)).length === 0 ? true : undefined;
  });
});
