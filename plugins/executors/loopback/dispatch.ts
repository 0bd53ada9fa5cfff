// One step as a local process group: spawn in a new session, stream its
// output, stop it on cancel or timeout, and make sure nothing of it is left
// when it is reported as exited.
//
// Leftovers after a normal exit: the step is over when its main process
// exits. Whatever it left running in its group (`sleep 100 & echo done`) is
// then terminated (SIGTERM, then SIGKILL after graceMs) and confirmed gone
// before `exited` is yielded, so nothing outlives its step. The exit code
// stays the main process's, and one stderr line starting with "swamp:" says
// what was ended. No cancelStage events are used for this: the step was not
// cancelled. A process that left the group (its own setsid) cannot be found
// this way; that needs cgroups or a container.

import type { CancelStageName, StepEvent, StepWork } from "../../../runtime/mod.ts";
import {
  couldNotRun,
  EventQueue,
  LineSplitter,
  OutputCapture,
  type SpoolLine,
  SpoolLineSplitter,
} from "../../../runtime/mod.ts";
import {
  describe,
  groupMembers,
  INT_TERM_KILL,
  stopGroup,
  type StopResult,
  TERM_KILL,
} from "./process_group.ts";
import { type SessionChild, spawnInSession, type SpawnMethod } from "./session_spawn.ts";
import { heldCommand } from "./held_start.ts";

export interface DispatchOptions {
  shell: string;
  defaultPath: string;
  maxLineChars: number;
  /** How long to wait, after SIGKILL, for the group to be confirmed empty. */
  killWaitMs: number;
  spawnMethod: SpawnMethod;
}

type Exited = Extract<StepEvent, { type: "exited" }>;

export async function* dispatchStep(
  step: StepWork,
  signal: AbortSignal,
  options: DispatchOptions,
): AsyncGenerator<StepEvent> {
  const failed = (error: string, exitCode = 127): Exited => couldNotRun(error, exitCode);
  if (signal.aborted) {
    const { error: _none, ...notStarted } = failed("", 130);
    yield { ...notStarted, cancelled: true };
    return;
  }
  const env = { ...step.env };
  if (env.PATH === undefined) env.PATH = options.defaultPath;
  // Every step starts held in the shell (decision 0039); an argv step's program is then exec'd.
  // Both are resolved here, so a missing one is reported as not started.
  const named = "script" in step.command ? options.shell : step.command.argv[0] ?? "";
  if (named === "") {
    yield failed("empty argv: nothing to run");
    return;
  }
  const shell = resolveProgram(options.shell, env.PATH, step.cwd);
  const program = "script" in step.command ? shell : resolveProgram(named, env.PATH, step.cwd);
  if (shell === undefined || program === undefined) {
    const missing = shell === undefined ? options.shell : named;
    yield failed(`cannot start ${JSON.stringify(missing)}: not found on PATH or not executable`);
    return;
  }
  const held = heldCommand(
    "script" in step.command
      ? { script: step.command.script }
      : { program, args: step.command.argv.slice(1) },
    shell,
  );
  let child: SessionChild;
  try {
    child = await spawnInSession(
      {
        ...held,
        held: true,
        cwd: step.cwd,
        env,
        ...(step.spool
          ? {
            spool: {
              stdout: `${step.spool.dir}/${step.spool.name}.out`,
              stderr: `${step.spool.dir}/${step.spool.name}.err`,
            },
          }
          : {}),
      },
      options.spawnMethod,
    );
  } catch (e) {
    yield failed(await spawnError(named, step.cwd, e));
    return;
  }
  const pid = child.pid;
  const pgid = pid;
  const queue = new EventQueue<StepEvent>();
  const processStart = child.processStart;
  queue.push({ type: "started", process: { executor: "loopback", pid, pgid, processStart } });
  const capture = new OutputCapture(step.outputLimitBytes);
  const from = child.spoolFrom;
  const readers = [
    pump(child.stdout, "stdout", queue, options.maxLineChars, from?.stdout, capture),
    pump(child.stderr, "stderr", queue, options.maxLineChars, from?.stderr),
  ];
  const exit = child.status;
  const onStage = (stage: CancelStageName, detail: string) =>
    queue.push({ type: "cancelStage", stage, detail });

  let cause: "cancel" | "timeout" | undefined;
  let mainExited = false;
  let stopping: Promise<StopResult> | undefined;
  const stop = (why: "cancel" | "timeout") => {
    if (cause !== undefined || mainExited) return;
    cause = why;
    // Still held: it gets no go-ahead, and exits at once having run nothing.
    child.release?.(false);
    stopping = stopGroup(pgid, {
      stages: INT_TERM_KILL,
      graceMs: step.graceMs,
      finalWaitMs: Math.max(options.killWaitMs, step.graceMs),
    }, onStage);
  };
  const onAbort = () => stop("cancel");
  signal.addEventListener("abort", onAbort, { once: true });
  // Aborted while the spawn was under way: the abort event has fired already.
  if (signal.aborted) onAbort();
  const timer = step.timeoutMs === undefined
    ? undefined
    : setTimeout(() => stop("timeout"), Math.max(0, step.timeoutMs));

  const finished = (async () => {
    const status = await exit;
    mainExited = true;
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    let result: StopResult;
    if (stopping) {
      result = await stopping;
    } else {
      const left = groupMembers(pgid);
      result = { confirmed: true, remaining: [] };
      if (left.length > 0) {
        result = await stopGroup(pgid, {
          stages: TERM_KILL,
          graceMs: step.graceMs,
          finalWaitMs: Math.max(options.killWaitMs, step.graceMs),
        }, () => {});
        queue.push({
          type: "output",
          stream: "stderr",
          line: `swamp: the step's main process exited and left ${
            describe(left)
          } in its process group; ${
            result.confirmed ? "they were terminated" : "some could not be ended"
          }`,
        });
      }
    }
    const drained = await drain(readers, child.stdout, child.stderr, step.graceMs);
    if (!drained) {
      queue.push({
        type: "output",
        stream: "stderr",
        line: "swamp: output pipes stayed open after the process group ended " +
          "(a process left the group); stopped reading",
      });
    }
    const signalName = status.signal ?? undefined;
    queue.push({
      type: "exited",
      exitCode: status.code,
      ...(signalName ? { signal: signalName } : {}),
      cancelled: cause === "cancel",
      timedOut: cause === "timeout",
      stdout: capture.text(),
      stdoutTruncated: capture.truncated,
      ...(result.confirmed ? {} : {
        error: `could not confirm process group ${pgid} ended: still alive after SIGKILL: ${
          result.remaining.join(", ")
        }`,
      }),
    });
    queue.close();
  })().catch((e) => {
    // A bug here must still end the stream with exited, never hang it.
    queue.push({ ...failed(`loopback executor failed: ${e}`, -1), cancelled: cause === "cancel" });
    queue.close();
  });

  let done = false;
  try {
    for await (const event of queue) {
      if (event.type === "exited") done = true;
      yield event;
      // Asked for the next event: the engine has recorded the step running (decision 0039).
      if (event.type === "started") child.release?.(true);
    }
  } finally {
    child.release?.(false);
    if (!done) {
      // The consumer stopped listening early: end the group anyway.
      stop("cancel");
      await finished;
    }
  }
}

/** Lines read ahead of the consumer at most (each at most maxLineChars). */
const queuedLinesLimit = 256;

/** `spoolFrom`: the stream is a spool file read from this offset; lines carry where they end. */
async function pump(
  stream: ReadableStream<Uint8Array>,
  name: "stdout" | "stderr",
  queue: EventQueue<StepEvent>,
  maxLineChars: number,
  spoolFrom?: number,
  capture?: OutputCapture,
): Promise<void> {
  const splitter = spoolFrom === undefined
    ? new LineSplitter(maxLineChars)
    : new SpoolLineSplitter(spoolFrom, maxLineChars);
  const emit = (lines: (string | SpoolLine)[]) => {
    for (const line of lines) {
      queue.push(
        typeof line === "string"
          ? { type: "output", stream: name, line }
          : { type: "output", stream: name, line: line.text, spoolOffset: line.offset },
      );
    }
  };
  try {
    for await (const bytes of stream) {
      capture?.add(bytes);
      emit(splitter.push(bytes));
      // A consumer behind (its log store slower than the step writes): read no further until
      // it catches up, so a step that floods its output holds the supervisor's memory bounded.
      await queue.whenBelow(queuedLinesLimit);
    }
  } catch {
    // a destroyed or failed pipe ends the stream; keep what was read
  }
  emit(splitter.end());
}

/**
 * Waits for both pipes to reach end of file. Once the group is gone they
 * close at once, unless a process that left the group still holds them: then
 * reading stops after `graceMs` (at least 100 ms). False when it had to stop.
 */
async function drain(
  readers: Promise<void>[],
  stdout: ReadableStream<Uint8Array>,
  stderr: ReadableStream<Uint8Array>,
  graceMs: number,
): Promise<boolean> {
  const all = Promise.all(readers).then(() => true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(100, graceMs));
  });
  const ok = await Promise.race([all, late]);
  clearTimeout(timer);
  if (!ok) {
    await Promise.allSettled([stdout.cancel(), stderr.cancel()]);
    await all;
  }
  return ok;
}

/** The executable `name` runs as: itself if it has a slash, else the first match on PATH. */
function resolveProgram(name: string, path: string, cwd?: string): string | undefined {
  const executable = (file: string) => {
    try {
      const info = Deno.statSync(file);
      return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (name.includes("/")) {
    const file = name.startsWith("/") || !cwd ? name : `${cwd}/${name}`;
    return executable(file) ? file : undefined;
  }
  for (const dir of path.split(":")) {
    const file = `${dir || "."}/${name}`;
    if (executable(file)) return file;
  }
  return undefined;
}

async function spawnError(file: string, cwd: string | undefined, e: unknown): Promise<string> {
  if (cwd !== undefined) {
    try {
      if (!(await Deno.stat(cwd)).isDirectory) return `cannot run in ${cwd}: not a directory`;
    } catch {
      return `cannot run in ${cwd}: no such directory`;
    }
  }
  const reason = e instanceof Error ? e.message : String(e);
  return `cannot start ${JSON.stringify(file)}: ${reason}`;
}
