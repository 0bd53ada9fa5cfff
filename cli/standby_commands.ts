// A waiting supervisor runs a read command for the command line that sent it
// (decision 0033): the same dispatch, with the command's environment, working
// directory and terminal, its output collected and sent back, and whatever
// it opened closed after it. The supervisor's own environment is put back.
import type { CommandReply, CommandSubmit } from "./standby_wire.ts";
import { toBase64 } from "./standby_wire.ts";
import { adoptEnvironment, taken } from "./standby_server.ts";
import { inCommandScope } from "./request_scope.ts";
import { executorModulesDir, modulesIn } from "./executor_modules.ts";

/** Output in the order it was written, stdout (1) and stderr (2) kept apart. */
class Collected {
  readonly chunks: [1 | 2, Uint8Array[]][] = [];

  writer(fd: 1 | 2): { writeSync(p: Uint8Array): number } {
    return {
      writeSync: (bytes) => {
        const last = this.chunks[this.chunks.length - 1];
        if (last?.[0] === fd) last[1].push(bytes.slice());
        else this.chunks.push([fd, [bytes.slice()]]);
        return bytes.length;
      },
    };
  }

  encoded(): [1 | 2, string][] {
    return this.chunks.map(([fd, parts]) => {
      const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        whole.set(part, at);
        at += part.length;
      }
      return [fd, toBase64(whole)];
    });
  }
}

/** Loads what serving a command needs, so the first one served is as quick as the next. */
export async function loadServedCommands(): Promise<void> {
  const [{ findCommand }] = await Promise.all([import("./spec.ts"), import("./dispatch.ts")]);
  await Promise.all([
    findCommand("workflow", "status")?.load(),
    findCommand("workflow", "list")?.load(),
    findCommand("workflow", "validate")?.load(),
    import("./context.ts"),
  ]);
}

/**
 * The Connect client (node:http2 with it), once loading it has begun: only
 * in a supervisor that meets commands through a server (decision 0036), as
 * it holds about 8 MB more.
 */
let remoteLoading: Promise<unknown> | undefined;

/** Loads the client for commands through a server; a command that comes meanwhile waits for it. */
export function loadRemoteCommands(): void {
  if (remoteLoading) return;
  remoteLoading = import("./remote.ts").then(({ loadRemoteClient }) => loadRemoteClient());
  // Failed: the next command through a server is declined and tries again.
  remoteLoading.catch(() => remoteLoading = undefined);
}

/**
 * How long after declining a command through a server the client is loaded:
 * loading at once took a core from that command, which then ran slower than
 * with no supervisor at all.
 */
const remoteLoadDelayMs = 500;
let remoteLoadTimer: ReturnType<typeof setTimeout> | undefined;

function loadRemoteSoon(): void {
  remoteLoadTimer ??= setTimeout(() => {
    remoteLoadTimer = undefined;
    // Taken by a run meanwhile: the run needs the core, and serves no more commands.
    if (!taken()) loadRemoteCommands();
  }, remoteLoadDelayMs);
}

/** Runs the command `submit` carries and answers with what it printed and its exit status. */
export async function serveCommand(submit: CommandSubmit): Promise<CommandReply> {
  // An executor module imported here would stay the one this process runs later, however the
  // file changes (reading runs may end a dead run's steps through its executor).
  if ((await modulesIn(`${submit.root}/${executorModulesDir}`)).length > 0) {
    return { declined: "the repository has executor modules" };
  }
  if (submit.command.remote) {
    // Loading the client now would make this command slower than running by itself (decision
    // 0036): it runs by itself, and the client loads for the next one once it is likely done.
    if (!remoteLoading) {
      loadRemoteSoon();
      return { declined: "the client for commands through a server is not loaded yet" };
    }
    await remoteLoading;
    // Taken by a run while the client loaded: the command runs by itself.
    if (taken()) return { declined: "the supervisor waiting has gone" };
  }
  const own = Deno.env.toObject();
  const ownCwd = Deno.cwd();
  const collected = new Collected();
  let abandoned = false;
  adoptEnvironment(submit.env, submit.cwd);
  try {
    const { dispatch } = await import("./dispatch.ts");
    const code = await inCommandScope(
      () =>
        dispatch(submit.command.argv, {
          stdout: collected.writer(1),
          stderr: collected.writer(2),
          stdoutTerminal: submit.command.stdoutTerminal,
          stderrTerminal: submit.command.stderrTerminal,
        }),
      (close) => {
        // A server can keep a call waiting for minutes; a local read ends by itself.
        if (!submit.command.remote) return;
        abandonServing = () => {
          abandoned = true;
          close();
        };
        // Taken by a run while this command was on its way here.
        if (taken()) abandonServing();
      },
    );
    // What it printed is the failure of its closed connection: the command runs by itself.
    if (abandoned) throw new Error("abandoned for a run");
    return { code, output: collected.encoded() };
  } finally {
    abandonServing = undefined;
    adoptEnvironment(own, ownCwd);
  }
}

let abandonServing: (() => void) | undefined;

/**
 * Ends the command through a server being served, if one is, without an
 * answer (its command line then runs it by itself, a read done twice being
 * harmless): a run that takes this supervisor, or its exit, must not wait
 * for a server that does not answer (decision 0036).
 */
export function abandonServedCommand(): void {
  abandonServing?.();
}
