// The run supervisor process: started by `workflow run` in its own session,
// it owns one run until the run is settled, then exits (DESIGN §4).
// Usage: supervise.ts <repo-root> <run-id>
//    or: supervise.ts --standby DIR, started ahead: it loads, opens the store
//        and engine of the repository at or above DIR, and reads one JSON
//        line {repoRoot, runId, resumeInputs} on stdin; it exits at once
//        without one (cli/supervisor_process.ts).
//    or: supervise.ts --wait ROOT, waiting for ROOT's next `workflow run` on
//        a unix socket, which it creates and owns itself (docs/design/0032),
//        and meanwhile running read commands sent on it (0033).
// Once it owns a run, it makes sure a supervisor waits for the repository's
// next one.
import { openRepoStore } from "./wiring.ts";
import { findRepoRoot, superviseRun, type SupervisorOptions } from "../runtime/mod.ts";
import { engineDeps } from "./engine_deps.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { standbyFlag, type StandbyRequest } from "./supervisor_process.ts";
import { repoData } from "./data_reader.ts";
import { executorModulesDir, modulesIn } from "./executor_modules.ts";
import {
  adoptCommandEnvironment,
  awaitSubmission,
  remoteFlag,
  startWaitingSupervisor,
  waitFlag,
} from "./standby_server.ts";
import { type OpenedRepo, refuseSubmission, runSubmitted } from "./standby_run.ts";
import {
  abandonServedCommand,
  loadRemoteCommands,
  loadServedCommands,
  serveCommand,
} from "./standby_commands.ts";

async function open(root: string): Promise<OpenedRepo> {
  const store = await openRepoStore(root);
  const evaluator = lazyEvaluator(() => Promise.resolve(repoData(root, store)));
  try {
    return { root, store, evaluator, deps: await engineDeps(root, store, evaluator) };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

async function close(opened: OpenedRepo | undefined): Promise<void> {
  await opened?.evaluator.close().catch(() => {});
  await opened?.store.close().catch(() => {});
}

const mode = Deno.args[0];
/** Opened while the command creates its run; undefined when that failed (it is tried again). */
const openedAhead: Promise<OpenedRepo | undefined> | undefined =
  mode === standbyFlag && Deno.args[1]
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

/** Every 10 s, or SWAMP_HEARTBEAT_MS (100 to 10,000) for tests: never slower, so the liveness TTL holds. */
function heartbeatMs(): number {
  const given = Number(Deno.env.get("SWAMP_HEARTBEAT_MS"));
  return Number.isInteger(given) && given >= 100 && given <= 10_000 ? given : 10_000;
}

/** How the run is had once the repository is open: supervised by id, or created from a submission. */
type Work = (opened: OpenedRepo, options: SupervisorOptions) => Promise<unknown>;

let repoRoot: string;
let runId = "";
let work: Work;
/** In wait mode: tells the command why its run could not even be begun (the repository did not open). */
let refuse: ((error: unknown) => Promise<void>) | undefined;
if (mode === waitFlag) {
  repoRoot = Deno.args[1];
  // Opened and closed once while it starts to listen, so the run handed over finds its code
  // compiled (about 25 ms sooner to its first step); a command that comes sooner waits for it.
  // Not where the repository has executor modules: a module imported now would be the one the
  // run gets, however the file changed meanwhile (imports are cached for the process's life).
  // The same goes for the read commands it serves meanwhile (decision 0033).
  const warm = repoRoot
    ? modulesIn(`${repoRoot}/${executorModulesDir}`).then(async (modules) => {
      if (modules.length > 0) return;
      await close(await open(repoRoot));
      await loadServedCommands();
    }).catch(() => {})
    : undefined;
  // Started by a command through a server: the next read is likely one too (decision 0036).
  if (Deno.args[2] === remoteFlag) loadRemoteCommands();
  const submission = repoRoot
    ? await awaitSubmission(repoRoot, serveCommand, abandonServedCommand)
    : undefined;
  if (!submission) Deno.exit(0);
  await warm;
  adoptCommandEnvironment(submission.submit);
  work = (opened, options) => runSubmitted(opened, submission, options, (id) => runId = id);
  refuse = (error) => refuseSubmission(submission, error);
} else {
  const request: StandbyRequest | undefined = mode === standbyFlag ? await standbyRequest() : {
    repoRoot: Deno.args[0],
    runId: Deno.args[1],
    resumeInputs: JSON.parse(Deno.env.get("SWAMP_RESUME_INPUTS") || "{}"),
  };
  // Not handed a run: the command that started it ahead ended without creating one.
  if (mode === standbyFlag && !request) Deno.exit(0);
  if (!request!.repoRoot || !request!.runId) {
    console.error("usage: supervise.ts <repo-root> <run-id>");
    Deno.exit(2);
  }
  repoRoot = request!.repoRoot;
  runId = request!.runId;
  const resumeInputs = request!.resumeInputs;
  work = (opened, options) => superviseRun(opened.deps, runId, { ...options, resumeInputs });
}
Deno.env.delete("SWAMP_RESUME_INPUTS");

const logFile = `${repoRoot}/.swamp/supervisor.log`;
async function note(text: string) {
  const line = `${new Date().toISOString()} run ${runId} pid ${Deno.pid}: ${text}\n`;
  await Deno.writeTextFile(logFile, line, { append: true }).catch(() => {});
}

/** What was opened ahead when it is this run's repository; else opened now. */
async function openFor(root: string): Promise<OpenedRepo> {
  const ahead = await openedAhead;
  if (ahead?.root === root) return ahead;
  // The command created its run in another repository than the one found ahead.
  await close(ahead);
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
// A supervisor for the repository's next run is started when this run ends, or 2 s after the claim
// if it runs on: loading one takes a core for about 200 ms, which a run's first steps should not
// share (it cost a 200-step run about 1 ms a step when it was started at the claim, bench/submit.ts).
let successorDue: ReturnType<typeof setTimeout> | undefined;
let successorStarted = false;
const startSuccessor = async () => {
  clearTimeout(successorDue);
  if (successorStarted) return;
  successorStarted = true;
  await startWaitingSupervisor(repoRoot).catch(() => {});
};
// Held here too, so what stopped the supervisor is noted with the run's secrets masked.
let mask: { apply(text: string): string } | undefined;
let opened: OpenedRepo | undefined;
try {
  opened = await openFor(repoRoot);
  const masks = opened.deps.masks!;
  if (runId) mask = masks.hold(runId);
  await work(opened, {
    heartbeatMs: heartbeatMs(),
    signal: stop.signal,
    onPoke: (fn) => (poke = fn),
    onClaimed: () => {
      mask ??= masks.hold(runId);
      successorDue = setTimeout(startSuccessor, 2_000);
    },
  });
} catch (error) {
  if (!opened && refuse) {
    // Opening the repository with the command's environment failed (a malformed setting, a store
    // that does not open): the command reports it, as it would have opening the repository itself.
    await refuse(error);
  } else {
    const text = `stopped: ${
      error instanceof Error ? error.stack ?? error.message : String(error)
    }`;
    await note(mask ? mask.apply(text) : text);
    Deno.exitCode = 1;
  }
} finally {
  clearInterval(repoGone);
  await startSuccessor();
  await close(opened);
}
Deno.exit();
