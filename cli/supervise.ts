// The run supervisor process: started by `workflow run` in its own session,
// it owns one run until the run is settled, then exits (DESIGN §4).
// Usage: supervise.ts <repo-root> <run-id>
import { openRepoStore } from "./wiring.ts";
import { superviseRun } from "../runtime/mod.ts";
import { engineDeps } from "./engine_deps.ts";
import { lazyEvaluator } from "./evaluator.ts";
import { repoData } from "./data_reader.ts";

const [repoRoot, runId] = Deno.args;
if (!repoRoot || !runId) {
  console.error("usage: supervise.ts <repo-root> <run-id>");
  Deno.exit(2);
}

const resumeInputs = JSON.parse(Deno.env.get("SWAMP_RESUME_INPUTS") || "{}");

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

const store = await openRepoStore(repoRoot);
const evaluator = lazyEvaluator(() => Promise.resolve(repoData(repoRoot, store)));
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
const deps = await engineDeps(repoRoot, store, evaluator);
// Held here too, so what stopped the supervisor is noted with the run's secrets masked.
const mask = deps.masks!.hold(runId);
try {
  await superviseRun(
    deps,
    runId,
    {
      heartbeatMs: heartbeatMs(),
      resumeInputs,
      signal: stop.signal,
      onPoke: (fn) => (poke = fn),
    },
  );
} catch (error) {
  await note(
    mask.apply(`stopped: ${error instanceof Error ? error.stack ?? error.message : String(error)}`),
  );
  Deno.exitCode = 1;
} finally {
  clearInterval(repoGone);
  await evaluator.close().catch(() => {});
  await store.close().catch(() => {});
}
Deno.exit();
