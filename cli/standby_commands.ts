// A waiting supervisor runs a read command for the command line that sent it
// (decision 0033): the same dispatch, with the command's environment, working
// directory and terminal, its output collected and sent back, and whatever
// it opened closed after it. The supervisor's own environment is put back.
import type { CommandReply, CommandSubmit } from "./standby_wire.ts";
import { toBase64 } from "./standby_wire.ts";
import { adoptEnvironment } from "./standby_server.ts";
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

/** Runs the command `submit` carries and answers with what it printed and its exit status. */
export async function serveCommand(submit: CommandSubmit): Promise<CommandReply> {
  // An executor module imported here would stay the one this process runs later, however the
  // file changes (reading runs may end a dead run's steps through its executor).
  if ((await modulesIn(`${submit.root}/${executorModulesDir}`)).length > 0) {
    return { declined: "the repository has executor modules" };
  }
  const own = Deno.env.toObject();
  const ownCwd = Deno.cwd();
  const collected = new Collected();
  adoptEnvironment(submit.env, submit.cwd);
  try {
    const { dispatch } = await import("./dispatch.ts");
    const code = await inCommandScope(() =>
      dispatch(submit.command.argv, {
        stdout: collected.writer(1),
        stderr: collected.writer(2),
        stdoutTerminal: submit.command.stdoutTerminal,
        stderrTerminal: submit.command.stderrTerminal,
      })
    );
    return { code, output: collected.encoded() };
  } finally {
    adoptEnvironment(own, ownCwd);
  }
}
