// Writes the supervisor could not make are recorded on the run (RunWarning),
// not dropped: a step's log lines its store refused, and heartbeats refused
// while another process held the SQLite database locked. Real stores, real
// faults: a log file replaced by a directory, an exclusive SQLite lock.
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  eventually,
  repoWith,
  runIdOf,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/runs.ts";

interface Warned {
  status: string;
  warningCount?: number;
  lastWarning?: { source: string; stepId?: string; message: string; count: number };
}

async function findFile(dir: string, name: string): Promise<string | undefined> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      const found = await findFile(path, name);
      if (found) return found;
    } else if (entry.name === name) return path;
  }
  return undefined;
}

Deno.test("log lines the store refuses are reported as a run warning, and the run goes on", async () => {
  const script =
    "echo one; while [ ! -e go ]; do sleep 0.05; done; echo two; echo three; sleep 1.5";
  await using repo = await repoWith("file", {
    "workflows/chatty.yaml": workflowFile("chatty", shellStep("talk", script)),
  });
  const runId = runIdOf(await repo.cli(["workflow", "run", "chatty", "--detach"]));
  const runDir = await eventually("the run's directory", async () => {
    const logs = await findFile(`${repo.root}/.swamp`, "logs.jsonl").catch(() => undefined);
    return logs && logs.includes(runId) && (await Deno.readTextFile(logs)).includes('"one"')
      ? logs.slice(0, -"/logs.jsonl".length)
      : undefined;
  });
  // The log file becomes a directory: every append to it fails from now on.
  await Deno.remove(`${runDir}/logs.jsonl`);
  await Deno.mkdir(`${runDir}/logs.jsonl`);
  await Deno.writeTextFile(`${repo.root}/go`, "");
  const run = await eventually("the run to end", async () => {
    const r = await statusJson(repo, runId) as unknown as Warned;
    return r.status === "running" || r.status === "pending" ? undefined : r;
  });
  assertEquals(run.status, "succeeded");
  assert((run.warningCount ?? 0) >= 1, `no warning recorded: ${JSON.stringify(run)}`);
  assertEquals(run.lastWarning?.source, "log");
  assertEquals(run.lastWarning?.stepId, "main/talk");
  assertMatch(
    run.lastWarning!.message,
    /log lines? of step main\/talk could not be written: .*directory/i,
  );
  const human = await repo.cli(["workflow", "status", runId, "--no-color"]);
  assertMatch(human.stdout, /^warning {3}\d+ log lines? of step main\/talk could not be written/m);
});

Deno.test("heartbeats refused while the database is locked are reported once it is free", async () => {
  await using repo = await repoWith("sqlite", {
    "workflows/quiet.yaml": workflowFile("quiet", shellStep("wait", "sleep 12")),
  });
  const env = { SWAMP_HEARTBEAT_MS: "500" };
  const runId = runIdOf(await repo.cli(["workflow", "run", "quiet", "--detach"], env));
  await eventually("the step to run", async () => {
    const run = await statusJson(repo, runId);
    return run.steps[0]?.status === "running" ? true : undefined;
  });
  const db = await findFile(`${repo.root}/.swamp`, "swamp.db");
  assert(db, "no SQLite database found");
  // Another process holds the database exclusively for longer than the store's busy timeout (5 s).
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
       const db = new DatabaseSync(${JSON.stringify(db)});
       db.exec("BEGIN EXCLUSIVE");
       console.log("locked");
       await new Promise((r) => setTimeout(r, 7000));
       db.exec("COMMIT");`,
    ],
    stdout: "piped",
  }).output();
  const held = await holder;
  assertEquals(new TextDecoder().decode(held.stdout).trim(), "locked");
  const run = await eventually("the warning", async () => {
    const r = await statusJson(repo, runId) as unknown as Warned;
    return r.lastWarning ? r : undefined;
  }, 30_000);
  assertEquals(run.lastWarning?.source, "heartbeat");
  assert(run.lastWarning!.count >= 1);
  assertMatch(
    run.lastWarning!.message,
    /heartbeats? of the supervisor could not be written: .*lock/i,
  );
  const ended = await eventually("the run to end", async () => {
    const r = await statusJson(repo, runId);
    return r.status === "running" ? undefined : r;
  }, 30_000);
  assertEquals(ended.status, "succeeded");
});
