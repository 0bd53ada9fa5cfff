// Starts a step with posix_spawn(3) and POSIX_SPAWN_SETSID: the child leads a
// new session and process group from its first instruction, with one exec
// (the step's own program) instead of two (setsid(1), then the program).
// Output is read from plain pipes by poll(2) and read(2) on Deno's thread
// pool; the exit status comes from waitpid(2) on that pool too.
import {
  ACTIONS_BYTES,
  ATTR_BYTES,
  commandStatus,
  cString,
  errnoMessage,
  type Libc,
  O_CLOEXEC,
  pointerArray,
  POLLIN,
  POSIX_SPAWN_SETSID,
  POSIX_SPAWN_SETSIGDEF,
  POSIX_SPAWN_SETSIGMASK,
  SIGSET_BYTES,
  SYS_PIDFD_OPEN,
  WNOHANG,
} from "./libc.ts";
import { readProc } from "./process_group.ts";

export interface SpawnSpec {
  /** The executable, a path (no PATH search here). */
  program: string;
  /** Arguments after argv[0] (argv[0] is `program`). */
  args: string[];
  cwd?: string;
  /** The child's whole environment. */
  env: Record<string, string>;
}

/** A step's process, as Deno.ChildProcess shows one: what dispatch reads. */
export interface SessionChild {
  readonly pid: number;
  /**
   * /proc/<pid>/stat field 22, read before anything could reap the child
   * ("" if even that lost the race: a reap can never match it then).
   */
  readonly processStart: string;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<Deno.CommandStatus>;
}

/** How long a poll waits before looking again whether reading was cancelled. */
const POLL_MS = 250;
const CHUNK_BYTES = 64 * 1024;

/** Throws (nothing started, no descriptor left open) when the program cannot be started. */
export function posixSpawn(c: Libc, spec: SpawnSpec): SessionChild {
  const strings = [spec.program, ...spec.args, ...Object.entries(spec.env).flat()];
  if (spec.cwd !== undefined) strings.push(spec.cwd);
  if (strings.some((s) => s.includes("\0"))) {
    throw new Error("an argument, variable or directory contains a NUL character");
  }
  const out = pipe(c);
  const err = pipe(c);
  const actions = new Uint8Array(ACTIONS_BYTES);
  const attr = new Uint8Array(ATTR_BYTES);
  c.posix_spawn_file_actions_init(actions);
  c.posix_spawnattr_init(attr);
  let pid = 0;
  try {
    c.posix_spawn_file_actions_addopen(actions, 0, cString("/dev/null"), 0, 0);
    c.posix_spawn_file_actions_adddup2(actions, out[1], 1);
    c.posix_spawn_file_actions_adddup2(actions, err[1], 2);
    if (spec.cwd !== undefined) c.posix_spawn_file_actions_addchdir_np(actions, cString(spec.cwd));
    // Every signal back to its default, none blocked: a step must not inherit
    // the runtime's ignored SIGPIPE.
    const everySignal = new Uint8Array(SIGSET_BYTES);
    const noSignal = new Uint8Array(SIGSET_BYTES);
    c.sigfillset(everySignal);
    c.sigemptyset(noSignal);
    c.posix_spawnattr_setflags(
      attr,
      POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK,
    );
    c.posix_spawnattr_setsigdefault(attr, everySignal);
    c.posix_spawnattr_setsigmask(attr, noSignal);
    const argv = [spec.program, ...spec.args].map(cString);
    const envp = Object.entries(spec.env).map(([k, v]) => cString(`${k}=${v}`));
    const pidOut = new Int32Array(1);
    const rc = c.posix_spawn(
      new Uint8Array(pidOut.buffer),
      cString(spec.program),
      actions,
      attr,
      pointerArray(argv),
      pointerArray(envp),
    );
    if (rc !== 0) throw new Error(errnoMessage(rc));
    pid = pidOut[0];
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
    c.close(out[1]);
    c.close(err[1]);
    if (pid === 0) {
      c.close(out[0]);
      c.close(err[0]);
    }
  }
  return {
    pid,
    // Until waitpid below, the child stays in /proc even if it has exited.
    processStart: readProc(pid)?.start ?? "",
    stdout: pipeReader(c, out[0]),
    stderr: pipeReader(c, err[0]),
    status: waitFor(c, pid),
  };
}

function pipe(c: Libc): Int32Array {
  const fds = new Int32Array(2);
  if (c.pipe2(new Uint8Array(fds.buffer), O_CLOEXEC) !== 0) {
    throw new Error("cannot create a pipe (too many open files?)");
  }
  return fds;
}

/**
 * The read end of a pipe as a stream. A read only follows a poll that found
 * data or end of file, so it never blocks; a cancel is seen within POLL_MS
 * even while a process outside the group still holds the write end.
 */
function pipeReader(c: Libc, fd: number): ReadableStream<Uint8Array> {
  const pollFd = pollStruct(fd);
  const pollBytes = new Uint8Array(pollFd.buffer);
  const buffer = new Uint8Array(CHUNK_BYTES);
  let open = true;
  let cancelled = false;
  let polling = false;
  const closeFd = () => {
    if (open) c.close(fd);
    open = false;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!cancelled) {
        pollFd.setInt16(6, 0, true);
        polling = true;
        const ready = await c.poll(pollBytes, 1n, POLL_MS);
        polling = false;
        if (cancelled) break;
        if (ready <= 0) continue; // timed out, or interrupted
        const n = Number(c.read(fd, buffer, BigInt(CHUNK_BYTES)));
        if (n > 0) {
          controller.enqueue(buffer.slice(0, n));
          return;
        }
        // 0 is end of file; -1 after a poll that found the pipe ready means it broke.
        closeFd();
        controller.close();
        return;
      }
      closeFd();
    },
    cancel() {
      cancelled = true;
      // A poll in flight closes the descriptor when it returns; none: now.
      if (!polling) closeFd();
    },
  }, { highWaterMark: 0 });
}

/** struct pollfd {int fd; short events, revents} asking for POLLIN. */
function pollStruct(fd: number): DataView {
  const view = new DataView(new ArrayBuffer(8));
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  return view;
}

/**
 * The child's exit status. A pidfd (Linux 5.3 on) becomes readable when the
 * child exits, so a bounded poll on it wakes at once; then waitpid(WNOHANG)
 * reaps it. Without pidfds the same loop polls nothing and looks every 50 ms.
 */
async function waitFor(c: Libc, pid: number): Promise<Deno.CommandStatus> {
  const status = new Int32Array(1);
  const statusBytes = new Uint8Array(status.buffer);
  const pidFd = Number(c.syscall(SYS_PIDFD_OPEN, BigInt(pid), 0n));
  const pollBytes = new Uint8Array(pollStruct(pidFd).buffer);
  try {
    for (let failures = 0; failures < 100;) {
      const reaped = c.waitpid(pid, statusBytes, WNOHANG);
      if (reaped === pid) return commandStatus(status[0]);
      // 0: still running. -1 can only be EINTR for our own child, and passes.
      failures = reaped < 0 ? failures + 1 : 0;
      if (pidFd >= 0) await c.poll(pollBytes, 1n, POLL_MS);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    if (pidFd >= 0) c.close(pidFd);
  }
  throw new Error(`waitpid(${pid}) kept failing`);
}
