// The listening side of a supervisor waiting for a repository's next run
// (docs/design/0032): it takes one submission from `workflow run` over a
// unix socket only this user can reach, then stops listening. Until then it
// exits by itself: when it has waited long enough, when its repository or
// its build is deleted, or when another supervisor took its socket.
import {
  bundleBuild,
  type CommandReply,
  type CommandSubmit,
  type LineChannel,
  lineChannel,
  standbyIdleSeconds,
  standbySocket,
  type StandbySubmit,
} from "./standby_wire.ts";
import { startSupervisorProcess, unrefChild } from "./supervisor_process.ts";

/** The first argument of a supervisor that waits on the socket for its run. */
export const waitFlag = "--wait";

/**
 * Given after the repository by a command that went through a server: the
 * supervisor loads what serving such commands needs as it starts (0036).
 */
export const remoteFlag = "--remote";

/** A submission taken: the request, and the connection it came on. */
export interface Submission extends LineChannel {
  submit: StandbySubmit;
}

/** How often the repository, the build and the socket are looked at while waiting. */
const lookMs = 2_000;
/** How long a connection may take to send its request (a probe sends none and closes). */
const requestMs = 5_000;

/**
 * Listens for the next run of `root` and returns its submission, or
 * undefined when this process should exit instead (waiting is off, another
 * supervisor waits already, or one of the reasons above). Meanwhile it has
 * `serve` run the read commands sent (decision 0033).
 */
export async function awaitSubmission(
  root: string,
  serve: ServeCommand,
  abandonServed: () => void,
): Promise<Submission | undefined> {
  const build = bundleBuild();
  const path = standbySocket(root);
  if (!build || !path || !exists(`${root}/.swamp.yaml`)) return undefined;
  const listener = await listenAlone(path);
  await Deno.remove(`${path}.starting`).catch(() => {});
  if (!listener) return undefined;
  const inode = Deno.statSync(path).ino;
  let stop = (_: Submission | undefined) => {};
  const outcome = new Promise<Submission | undefined>((resolve) => stop = resolve);
  let idle: ReturnType<typeof setTimeout> | undefined;
  // A command served counts as use: the idle time starts again after it.
  const stillIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop(undefined), standbyIdleSeconds() * 1000);
  };
  stillIdle();
  const look = setInterval(() => {
    if (!exists(`${root}/.swamp.yaml`) || !exists(build) || statIno(path) !== inode) {
      stop(undefined);
    }
  }, lookMs);
  Deno.addSignalListener("SIGTERM", () => stop(undefined));
  (async () => {
    for await (const conn of listener) {
      receive(conn, root, build, serve, stillIdle, abandonServed).then((taken) => {
        if (taken === "other-build") stop(undefined);
        else if (taken) stop(taken);
      });
    }
  })().catch(() => {}); // ends when the listener is closed
  const taken = await outcome;
  claimed = true;
  clearTimeout(idle);
  clearInterval(look);
  listener.close();
  if (statIno(path) === inode) await Deno.remove(path).catch(() => {});
  // A command being served has this process's environment and directory: let it finish first,
  // unless it waits on a server.
  abandonServed();
  await served;
  return taken;
}

let claimed = false;

/** Whether a run has taken this supervisor, or it is exiting: it serves no more commands. */
export function taken(): boolean {
  return claimed;
}

/** Runs a read command for the command line that sent it (cli/standby_commands.ts). */
export type ServeCommand = (submit: CommandSubmit) => Promise<CommandReply>;

/** Served commands run one at a time: each has the process's environment and directory to itself. */
let served: Promise<void> = Promise.resolve();

/**
 * One connection's request: a run's submission for this repository and
 * build (returned), a read command (served in turn), or nothing.
 */
async function receive(
  conn: Deno.Conn,
  root: string,
  build: string,
  serve: ServeCommand,
  used: () => void,
  abandonServed: () => void,
): Promise<Submission | "other-build" | undefined> {
  const channel = lineChannel(conn);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const submit = await Promise.race([
    channel.next().catch(() => undefined),
    new Promise((resolve) => timer = setTimeout(resolve, requestMs)),
  ]) as Partial<StandbySubmit & CommandSubmit> | undefined;
  clearTimeout(timer);
  const command = submit?.protocol === 1 && Array.isArray(submit.command?.argv);
  const run = submit?.protocol === 1 && typeof submit.request?.workflow === "string";
  if (!submit || (!command && !run)) {
    channel.close();
    return undefined;
  }
  const refusal = submit.build !== build
    ? "the supervisor waiting runs another build of swamp"
    : submit.root !== root
    ? "the supervisor waiting is for another repository"
    : claimed
    ? (run
      ? "the supervisor waiting was taken by another command"
      : "the supervisor waiting does not serve commands now")
    : undefined;
  if (refusal) {
    await channel.send({ declined: refusal });
    channel.close();
    return submit.build !== build ? "other-build" : undefined;
  }
  if (run) {
    claimed = true;
    return { ...channel, submit: submit as StandbySubmit };
  }
  let serving = true;
  served = served.then(async () => {
    used();
    try {
      // A run took this process, or it is about to exit, while the command waited its turn.
      if (claimed) return void await channel.send({ declined: "the supervisor waiting has gone" });
      // Its turn has come: from here the command waits for the answer however long it takes.
      if (await channel.send({ started: true })) {
        // The command line sends nothing more: a read that ends means it is gone (interrupted,
        // killed), and a call it left waiting on a server is ended with it.
        channel.next().finally(() => serving && abandonServed()).catch(() => {});
        await channel.send(await serve(submit as CommandSubmit));
      }
    } catch {
      // Not served after all (closing without an answer): the command runs itself.
    } finally {
      serving = false;
      channel.close();
      used();
    }
  });
  return undefined;
}

/** Listens on `path` unless a live supervisor does already; a socket nobody answers is removed. */
async function listenAlone(path: string): Promise<Deno.Listener | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return Deno.listen({ transport: "unix", path });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) return undefined;
      if (await answers(path)) return undefined;
      await Deno.remove(path).catch(() => {});
    }
  }
  return undefined;
}

/** Whether a supervisor listens on `path` (it takes a connection that sends nothing for a probe). */
async function answers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure a supervisor waits for `root`'s next run: starts one (in a
 * session of its own, with only the environment it needs to load) unless one
 * answers already. Off when running from the sources or with waiting off.
 * `remote`: it was a command through a server, and the next one is likely too.
 */
export async function startWaitingSupervisor(
  root: string,
  options: { remote?: boolean } = {},
): Promise<void> {
  if (!bundleBuild()) return;
  const path = standbySocket(root);
  if (!path || !exists(`${root}/.swamp.yaml`) || await answers(path)) return;
  // One is loading already (it removes the mark once it listens, or in 10 s it counts for nothing).
  try {
    if (Date.now() - (Deno.statSync(`${path}.starting`).mtime?.getTime() ?? 0) < 10_000) return;
  } catch {
    // no mark
  }
  await Deno.writeTextFile(`${path}.starting`, "").catch(() => {});
  const keep = ["PATH", "HOME", "DENO_DIR", "XDG_RUNTIME_DIR", "SWAMP_CHECKOUT"];
  const env: Record<string, string> = { SWAMP_STANDBY_IDLE: String(standbyIdleSeconds()) };
  for (const name of keep) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  try {
    const args = [waitFlag, root, ...(options.remote ? [remoteFlag] : [])];
    unrefChild(startSupervisorProcess(args, env, { inherit: false }).child);
  } catch {
    // No setsid or no deno: the next run starts its own supervisor, as without waiting.
  }
}

/** Gives this process the command's environment and working directory, for the run it takes. */
export function adoptCommandEnvironment(submit: StandbySubmit): void {
  adoptEnvironment(submit.env, submit.cwd);
  Deno.env.set("SWAMP_SUPERVISOR", "1");
}

/** Makes `env` this process's whole environment and `cwd` (when it still exists) its directory. */
export function adoptEnvironment(env: Record<string, string>, cwd: string): void {
  for (const name of Object.keys(Deno.env.toObject())) {
    if (!(name in env)) Deno.env.delete(name);
  }
  for (const [name, value] of Object.entries(env)) Deno.env.set(name, value);
  try {
    Deno.chdir(cwd);
  } catch {
    // The command's directory is gone: steps run in the repository anyway.
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function statIno(path: string): number | null | undefined {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return undefined;
  }
}
