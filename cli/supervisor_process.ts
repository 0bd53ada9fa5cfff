// Starting run supervisors (cli/supervise.ts) as processes of their own, in a
// new session (setsid), so closing the terminal or killing the CLI does not
// stop a run. Light on imports: cli/main.ts loads it to start a supervisor
// ahead, while `workflow run` still loads, checks and creates its run.

// The checkout this CLI runs from. The launcher says (a bundle lives
// elsewhere); running from source, it is this file's parent directory.
export const checkoutRoot = Deno.env.get("SWAMP_CHECKOUT") ??
  decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** A supervisor process, and its command line (for the error that says how to run it by hand). */
export interface SupervisorProcess {
  child: Deno.ChildProcess;
  command: string;
}

/** What a supervisor started ahead is told once its run exists, as one JSON line on its stdin. */
export interface StandbyRequest {
  repoRoot: string;
  runId: string;
  resumeInputs: Record<string, unknown>;
}

/** The first argument of a supervisor started ahead, which then waits for a StandbyRequest. */
export const standbyFlag = "--standby";

/**
 * Starts `setsid deno run … supervise.(ts|js) ARGS` with this process's
 * environment (unless `inherit` is false) and `env`. Its stdin is a pipe
 * only for a supervisor started ahead; otherwise nothing.
 */
export function startSupervisorProcess(
  args: string[],
  env: Record<string, string> = {},
  options: { inherit?: boolean } = {},
): SupervisorProcess {
  const argv = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-all",
    // A small young generation (as cli/swamp runs the CLI) and V8's footprint mode: a 1,000-item
    // fan-out adds half as much memory, at no measurable cost per step (bench/submit.ts). The CLI
    // leaves the footprint mode out: it costs about 10 % more CPU validating 10,000 steps.
    "--v8-flags=--max-semi-space-size=1,--optimize-for-size",
    ...profileFlags(),
    ...supervisorProgram(),
    ...args,
  ];
  const child = new Deno.Command("setsid", {
    args: argv,
    stdin: args[0] === standbyFlag ? "piped" : "null",
    stdout: "null",
    stderr: "null",
    clearEnv: options.inherit === false,
    env: {
      ...(options.inherit === false ? {} : Deno.env.toObject()),
      SWAMP_SUPERVISOR: "1",
      ...env,
    },
  }).spawn();
  return { child, command: argv.join(" ") };
}

/** `SWAMP_SUPERVISOR_CPU_PROF=DIR`: the supervisor writes a V8 CPU profile there (bench/README.md). */
function profileFlags(): string[] {
  const dir = Deno.env.get("SWAMP_SUPERVISOR_CPU_PROF");
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

let standby: SupervisorProcess | undefined;

/**
 * Starts a supervisor ahead, for the run this command is about to create: it
 * loads while the command loads, checks and creates the run (about 130 ms of
 * start-up off the time to the first step, bench/submit.ts), then is handed
 * the run (handOverToStandby). Meanwhile it finds the repository from
 * `searchFrom` (as the command does: --repo, else the working directory) and
 * opens its store and engine, so a run handed over in that repository starts
 * without waiting for them. If it is never handed one, the end of this
 * process closes its stdin and it exits without doing anything.
 */
export function startStandbySupervisor(searchFrom: string): void {
  if (standby) return;
  try {
    standby = startSupervisorProcess([standbyFlag, searchFrom]);
  } catch {
    // No setsid or no deno: the run's launch tries again, and says what failed.
  }
}

/**
 * Hands a run to the supervisor started ahead, if there is one and it is
 * still there; undefined otherwise (the caller starts one as usual).
 */
export async function handOverToStandby(
  request: StandbyRequest,
): Promise<SupervisorProcess | undefined> {
  const ready = standby;
  standby = undefined;
  if (!ready) return undefined;
  try {
    const writer = ready.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
    await writer.close();
    return { child: ready.child, command: `${ready.command} (then given run ${request.runId})` };
  } catch {
    // It exited already (its stdin is closed): start another.
    unrefChild(ready.child);
    return undefined;
  }
}

/**
 * The supervisor's program and its config flag. A CLI running from the
 * launcher's bundle starts the supervisor from the same bundle (cli/swamp
 * bundles cli/supervise.ts beside main.js): from the sources it loads a few
 * hundred modules and starts about twice as slow, which every run waits for
 * before its first step (bench/submit.ts). From the sources, or a bundle
 * built before it held the supervisor, it runs the sources.
 */
function supervisorProgram(): string[] {
  if (import.meta.url.startsWith("file:") && import.meta.url.endsWith(".js")) {
    for (const candidate of ["./supervise.js", "../supervise.js"]) {
      const path = decodeURIComponent(new URL(candidate, import.meta.url).pathname);
      try {
        if (Deno.statSync(path).isFile) return ["--no-config", path];
      } catch {
        // not in this layout
      }
    }
  }
  return [`--config=${checkoutRoot}/deno.json`, `${checkoutRoot}/cli/supervise.ts`];
}

/**
 * Lets this process exit while `child` runs on. A child that has just exited
 * (its exit seen by the runtime, not yet by our status promise) has no
 * resource left to unref: Deno throws BadResource, and there is nothing to do.
 */
export function unrefChild(child: Deno.ChildProcess): void {
  try {
    child.unref();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
