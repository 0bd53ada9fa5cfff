// Waiting supervisors (docs/design/0032, 0033) as tests meet them: through
// the launcher's bundle (from the sources none waits), each test with its own
// XDG_RUNTIME_DIR so that it finds only the supervisors it made.
import { assertEquals } from "./assert.ts";
import { runLauncher, swampLauncher } from "./cli.ts";
import { eventually, shellStep, workflowFile } from "./runs.ts";
import { standbySocket } from "../../cli/standby_wire.ts";

export interface Place {
  dir: string;
  runtime: string;
  env: Record<string, string>;
}

export async function place(): Promise<Place> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-standby-" });
  const runtime = `${dir}/runtime`;
  await Deno.mkdir(runtime, { mode: 0o700 });
  await Deno.mkdir(`${dir}/repo`);
  return { dir, runtime, env: { NO_COLOR: "1", XDG_RUNTIME_DIR: runtime } };
}

export function launch(p: Place, args: string[], env: Record<string, string> = {}) {
  return runLauncher(args, `${p.dir}/repo`, { ...p.env, ...env });
}

/** The pids of supervisors waiting (`--wait`) for the repository of `p`. */
export async function waitingPids(p: Place): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const argv = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => ""))
      .split("\0");
    const at = argv.indexOf("--wait");
    if (at > 0 && /supervise\.js$/.test(argv[at - 1]) && argv[at + 1] === `${p.dir}/repo`) {
      pids.push(Number(entry.name));
    }
  }
  return pids;
}

/** The socket of the repository's waiting supervisor, as the CLI of `p` computes it. */
export function socketOf(p: Place): string {
  const before = Deno.env.get("XDG_RUNTIME_DIR");
  Deno.env.set("XDG_RUNTIME_DIR", p.runtime);
  try {
    return standbySocket(`${p.dir}/repo`)!;
  } finally {
    if (before === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", before);
  }
}

/** Waits until a supervisor listens for the repository's next run; its pid. */
export async function listening(p: Place): Promise<number> {
  return await eventually("a supervisor waiting for the next run", async () => {
    try {
      (await Deno.connect({ transport: "unix", path: socketOf(p) })).close();
    } catch {
      return undefined;
    }
    const pids = await waitingPids(p);
    return pids.length === 1 ? pids[0] : undefined;
  });
}

export async function gone(pid: number): Promise<boolean> {
  return await Deno.stat(`/proc/${pid}`).then(() => false, () => true);
}

export async function withRepo(body: (p: Place) => Promise<void>): Promise<void> {
  const p = await place();
  try {
    const init = await launch(p, ["repo", "init", ".", "-q"]);
    assertEquals(init.code, 0, init.stderr);
    await Deno.writeTextFile(
      `${p.dir}/repo/workflows/workflow-hello.yaml`,
      workflowFile("hello", shellStep("hello", 'echo "tz=${TZ:-none}"')),
    );
    await body(p);
  } finally {
    const waiting = await waitingPids(p);
    await removeTree(p.dir);
    // A waiting supervisor whose repository is gone exits by itself within seconds.
    for (const pid of waiting) {
      await eventually(`supervisor ${pid} to exit`, async () => await gone(pid) || undefined);
    }
  }
}

/** Bytes the process has read through read(2) so far (/proc/PID/io rchar). */
export async function bytesRead(pid: number): Promise<number> {
  return await ioCount(pid, "rchar");
}

/** Bytes the process has written through write(2) so far (/proc/PID/io wchar). */
export async function bytesWritten(pid: number): Promise<number> {
  return await ioCount(pid, "wchar");
}

async function ioCount(pid: number, field: "rchar" | "wchar"): Promise<number> {
  const io = await Deno.readTextFile(`/proc/${pid}/io`);
  return Number(new RegExp(`^${field}: (\\d+)$`, "m").exec(io)![1]);
}

/** A run whose record is large (a 2 MiB input): reading it shows in the reader's I/O. Its id. */
export async function bigRun(p: Place): Promise<string> {
  const repo = `${p.dir}/repo`;
  await Deno.writeTextFile(
    `${repo}/workflows/workflow-big.yaml`,
    workflowFile(
      "big",
      shellStep("big", "true"),
      "inputs:\n  properties:\n    blob: {type: string}\n",
    ),
  );
  await Deno.writeTextFile(`${p.dir}/inputs.json`, JSON.stringify({ blob: "x".repeat(2 << 20) }));
  const big = await launch(p, [
    "workflow",
    "run",
    "big",
    "--input-file",
    `${p.dir}/inputs.json`,
    "--json",
  ]);
  assertEquals(big.code, 0, big.stderr);
  return JSON.parse(big.stdout.trimEnd().split("\n").pop()!).run.id;
}

/** The command run with a supervisor waiting, and by itself (SWAMP_STANDBY_IDLE=0): the same. */
export async function sameBothWays(p: Place, args: string[], env: Record<string, string> = {}) {
  const served = await launch(p, args, env);
  const alone = await launch(p, args, { ...env, SWAMP_STANDBY_IDLE: "0" });
  const what = `swamp ${args.join(" ")}`;
  assertEquals(served.code, alone.code, `${what}: exit status\n${served.stderr}`);
  assertEquals(served.stdout, alone.stdout, `${what}: stdout`);
  assertEquals(served.stderr, alone.stderr, `${what}: stderr`);
  return served;
}

/**
 * The runs and files the read-command tests read: a big run, a failed one
 * (`fails`, exit 3) and a workflow that does not validate (`broken`). Their ids.
 */
export async function readFixtures(p: Place): Promise<{ bigId: string; failedId: string }> {
  const repo = `${p.dir}/repo`;
  const bigId = await bigRun(p);
  await Deno.writeTextFile(
    `${repo}/workflows/workflow-fails.yaml`,
    workflowFile("fails", shellStep("fails", "exit 3")),
  );
  const failed = await launch(p, ["workflow", "run", "fails", "--json"]);
  assertEquals(failed.code, 1, failed.stderr);
  const failedId = JSON.parse(failed.stdout.trimEnd().split("\n").pop()!).run.id;
  await Deno.writeTextFile(
    `${repo}/workflows/workflow-broken.yaml`,
    workflowFile("broken", shellStep("bad", "true").replace("modelName", "modelNmae")),
  );
  return { bigId, failedId };
}

/** The launcher started in the repository of `p`, not waited for: its process to watch. */
export function spawnLaunch(p: Place, args: string[]): Deno.ChildProcess {
  return new Deno.Command(swampLauncher, {
    args,
    cwd: `${p.dir}/repo`,
    env: { NO_COLOR: "1", ...p.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Removes a directory where a waiting supervisor may still be writing (its
 * log, a successor's mark, the store it opens as it starts) while the tree
 * goes: tried again until it is gone. The supervisor exits once it sees its
 * repository gone.
 */
export async function removeTree(dir: string): Promise<void> {
  await eventually(
    `${dir} to be removed`,
    () => Deno.remove(dir, { recursive: true }).then(() => true, () => undefined),
  );
}
