// The run supervisor process: started by `workflow run` in its own session,
// it owns one run until the run is settled, then exits (DESIGN §4).
// Usage: supervise.ts <repo-root> <run-id>
//    or: supervise.ts --standby DIR, started ahead: it loads, opens the store
//        and engine of the repository at or above DIR, and reads one JSON
//        line {repoRoot, runId, resumeInputs} on stdin; it exits at once
//        without one (cli/supervisor_process.ts).
import { openRepoStore } from "./wiring.ts";
import { findRepoRoot, type RunStore, superviseRun } from "../runtime/mod.ts";
import { engineDeps } from "./engine_deps.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { standbyFlag, type StandbyRequest } from "./supervisor_process.ts";
import { repoData } from "./data_reader.ts";

/** A repository's store and engine, opened for the run to come. */
interface Opened {
  root: string;
  store: RunStore;
  evaluator: ReturnType<typeof lazyEvaluator>;
  deps: Awaited<ReturnType<typeof engineDeps>>;
}

async function open(root: string): Promise<Opened> {
  const store = await openRepoStore(root);
  const evaluator = lazyEvaluator(() => Promise.resolve(repoData(root, store)));
  try {
    return { root, store, evaluator, deps: await engineDeps(root, store, evaluator) };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/** Opened while the command creates its run; undefined when that failed (it is tried again). */
const openedAhead: Promise<Opened | undefined> | undefined =
  Deno.args[0] === standbyFlag && Deno.args[1]
    ? findRepoRoot(Deno.args[1]).then(open).catch(() => undefined)
    : undefined;

/** The request a supervisor started ahead is given on stdin; undefined when stdin ends first. */
async function standbyRequest(): Promise<StandbyRequest | undefined> {
  let text = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  const line = text.split("\n")[0].trim();
  return line ? JSON.parse(line) as StandbyRequest : undefined;
}

const request: StandbyRequest | undefined = Deno.args[0] === standbyFlag
  ? await standbyRequest()
  : {
    repoRoot: Deno.args[0],
    runId: Deno.args[1],
    resumeInputs: JSON.parse(Deno.env.get("SWAMP_RESUME_INPUTS") || "{}"),
  };
// Not handed a run: the command that started it ahead ended without creating one.
if (Deno.args[0] === standbyFlag && !request) Deno.exit(0);
const { repoRoot, runId, resumeInputs } = request!;
if (!repoRoot || !runId) {
  console.error("usage: supervise.ts <repo-root> <run-id>");
  Deno.exit(2);
}

/** Every 10 s, or SWAMP_HEARTBEAT_MS (100 to 10,000) for tests: never slower, so the liveness TTL holds. */
function heartbeatMs(): number {
  const given = Number(Deno.env.get("SWAMP_HEARTBEAT_MS"));
  return Number.isInteger(given) && given >= 100 && given <= 10_000 ? given : 10_000;
}
Deno.env.delete("SWAMP_RESUME_INPUTS");

const logFile = `${repoRoot}/.swamp/supervisor.log`;
async function note(text: string) {
  const line = `${new Date().toISOString()} run ${runId} pid ${Deno.pid}: ${text}\n`;
  await Deno.writeTextFile(logFile, line, { append: true }).catch(() => {});
}

/** What was opened ahead when it is this run's repository; else opened now. */
async function openFor(root: string): Promise<Opened> {
  const ahead = await openedAhead;
  if (ahead?.root === root) return ahead;
  // The command created its run in another repository than the one found ahead.
  await ahead?.store.close().catch(() => {});
  return await open(root);
}

const stop = new AbortController();
let poke = () => {};
Deno.addSignalListener("SIGUSR1", () => poke());
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.addSignalListener(signal, () => stop.abort());
}
// A supervisor whose repository was deleted has nothing left to report to:
// it stops its steps as a cancel would and exits, instead of running on.
const repoGone = setInterval(() => {
  Deno.stat(`${repoRoot}/.swamp`).catch(() => {
    clearInterval(repoGone);
    stop.abort();
    setTimeout(() => Deno.exit(1), 15_000);
  });
}, 5_000);
// Held here too, so what stopped the supervisor is noted with the run's secrets masked.
let mask: { apply(text: string): string } | undefined;
let opened: Opened | undefined;
try {
  opened = await openFor(repoRoot);
  mask = opened.deps.masks!.hold(runId);
  await superviseRun(
    opened.deps,
    runId,
    {
      heartbeatMs: heartbeatMs(),
      resumeInputs,
      signal: stop.signal,
      onPoke: (fn) => (poke = fn),
    },
  );
} catch (error) {
  const text = `stopped: ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
  await note(mask ? mask.apply(text) : text);
  Deno.exitCode = 1;
} finally {
  clearInterval(repoGone);
  await opened?.evaluator.close().catch(() => {});
  await opened?.store.close().catch(() => {});
}
Deno.exit();
