// `workflow run`'s side of handing a run to a supervisor that waits for the
// repository's next one (docs/design/0032). cli/main.ts sends the request as
// soon as the arguments are parsed, before the command itself loads; the
// command takes the answer where it would create the run (cli/standby_ahead.ts).
// Light on imports: it is on every local `workflow run`'s start-up path.
import { readInputs } from "./run_inputs.ts";
import type { FlagValues } from "./types.ts";
import {
  bundleBuild,
  type CommandReply,
  type CommandSubmit,
  fromBase64,
  type LineChannel,
  lineChannel,
  repoRootAbove,
  standbySocket,
  type StandbySubmit,
} from "./standby_wire.ts";

/** A request sent to a waiting supervisor, not yet taken by the command, and its connection. */
export interface AheadSubmission extends LineChannel {
  request: StandbySubmit["request"];
}

let ahead: AheadSubmission | undefined;

/**
 * Sends this `workflow run` to the supervisor waiting for the repository at
 * or above `searchFrom`, if one listens; false when none took the request
 * (the command then creates its run and starts a supervisor as before).
 * Whatever goes wrong here only means no waiting supervisor is used: the
 * command finds and reports the same problem itself.
 */
export async function submitAhead(
  searchFrom: string,
  workflow: string,
  flags: FlagValues,
): Promise<boolean> {
  const build = bundleBuild();
  if (!build) return false;
  const root = repoRootAbove(searchFrom);
  const path = root === undefined ? undefined : standbySocket(root);
  if (root === undefined || path === undefined) return false;
  let request: StandbySubmit["request"];
  try {
    request = { workflow, inputs: await readInputs(flags), detach: flags.detach === true };
  } catch {
    return false;
  }
  const conn = await connectSoon(path);
  if (!conn) return false;
  const submit: StandbySubmit = {
    protocol: 1,
    build,
    root,
    cwd: Deno.cwd(),
    env: Deno.env.toObject(),
    request,
  };
  const channel = lineChannel(conn);
  if (!await channel.send(submit)) {
    channel.close();
    return false;
  }
  ahead = { ...channel, request };
  return true;
}

/** How long a command waits for a supervisor that is still starting (its mark is fresh). */
const startingWaitMs = 300;
/** A mark older than this is a supervisor that never got to listen. */
const startingMarkMs = 1_000;

/**
 * A connection to the supervisor listening on `path`; when none listens yet
 * but one started a moment ago (back-to-back runs: the previous run's
 * supervisor started it as its run ended), waits a little for it, which is still sooner than
 * starting a supervisor of its own.
 */
async function connectSoon(path: string): Promise<Deno.Conn | undefined> {
  const deadline = Date.now() + startingWaitMs;
  for (;;) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch {
      // none listens (yet)
    }
    let markedAt: number | undefined;
    try {
      markedAt = Deno.statSync(`${path}.starting`).mtime?.getTime();
    } catch {
      return undefined;
    }
    if (!markedAt || Date.now() - markedAt > startingMarkMs || Date.now() > deadline) {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The request sent ahead, once: the command takes it where it would create its run. */
export function takeAhead(): AheadSubmission | undefined {
  const taken = ahead;
  ahead = undefined;
  return taken;
}

/** The commands a waiting supervisor runs for the command line (decision 0033): reads only. */
export function servesCommand(noun: string, verb: string): boolean {
  return noun === "workflow" && (verb === "status" || verb === "list" || verb === "validate");
}

/**
 * Has the supervisor waiting for the repository at or above `searchFrom` run
 * `argv`, and prints what it printed: `code` is its exit status. Without one,
 * `root` is the repository (so that the command can have one started for the
 * next time); with neither, the command runs here and nothing waits.
 */
export async function runServed(
  searchFrom: string,
  argv: string[],
  remote: boolean,
): Promise<{ code?: number; root?: string }> {
  const build = bundleBuild();
  if (!build) return {};
  const root = repoRootAbove(searchFrom);
  const path = root === undefined ? undefined : standbySocket(root);
  if (root === undefined || path === undefined) return {};
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    return { root };
  }
  const channel = lineChannel(conn);
  const submit: CommandSubmit = {
    protocol: 1,
    build,
    root,
    cwd: Deno.cwd(),
    env: Deno.env.toObject(),
    command: {
      argv,
      stdoutTerminal: Deno.stdout.isTerminal(),
      stderrTerminal: Deno.stderr.isTerminal(),
      remote,
    },
  };
  const next = () => channel.next().catch(() => undefined) as Promise<CommandReply | undefined>;
  let reply = await channel.send(submit) ? await within(startedMs, next()) : undefined;
  // Once its turn has come the command takes as long as it takes, as it would here.
  if (reply && "started" in reply) reply = await next();
  channel.close();
  // Declined (another build, a repository with executor modules) or gone: the command runs here.
  if (!reply || !("code" in reply) || typeof reply.code !== "number") return { root };
  for (const [fd, text] of reply.output) {
    writeAll(fd === 2 ? Deno.stderr : Deno.stdout, fromBase64(text));
  }
  return { code: reply.code };
}

/**
 * How long a command waits for its turn at the waiting supervisor (serving
 * another command ahead of it) before it runs by itself: a supervisor stuck
 * on one command must not hold every later one.
 */
const startedMs = 5_000;

function within<T>(ms: number, pending: Promise<T>): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    pending,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
  ]).finally(() => clearTimeout(timer));
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += stream.writeSync(bytes.subarray(at));
}
