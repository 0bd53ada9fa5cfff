// Starts a step with posix_spawn(3) and POSIX_SPAWN_SETSID: the child leads a
// new session and process group from its first instruction, with one exec
// (the step's own program) instead of two (setsid(1), then the program).
// Output and exit are then watched by child_watch.ts.
import {
  ACTIONS_BYTES,
  ATTR_BYTES,
  cString,
  errnoMessage,
  type Libc,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_WRONLY,
  pointerArray,
  POSIX_SPAWN_SETSID,
  POSIX_SPAWN_SETSIGDEF,
  POSIX_SPAWN_SETSIGMASK,
  PRIO_PGRP,
  PRIO_PROCESS,
  SIGSET_BYTES,
} from "./libc.ts";
import { watchChild } from "./child_watch.ts";
import { groupExists, groupMembers, parseStat } from "./process_group.ts";
import { followSpool, openSpool } from "./spool_follow.ts";

export interface SpawnSpec {
  /** The executable, a path (no PATH search here). */
  program: string;
  /** Arguments after argv[0] (argv[0] is `program`). */
  args: string[];
  cwd?: string;
  /** The child's whole environment. */
  env: Record<string, string>;
  /**
   * Files the child's stdout and stderr are opened on (appending), instead of
   * pipes: followed from where each ends now (decision 0024).
   */
  spool?: { stdout: string; stderr: string };
  /**
   * The child's stdin is a pipe whose other end only this process holds,
   * until `release` (decision 0039); else /dev/null.
   */
  held?: boolean;
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
  /** With a spool: the offsets in the files where stdout and stderr start. */
  readonly spoolFrom?: { stdout: number; stderr: number };
  /**
   * A held child's: writes the go-ahead line to its stdin (`go`) or not, and
   * closes the pipe. Idempotent; a child that has exited is no error.
   */
  readonly release?: (go: boolean) => void;
}

/** What a posix_spawn running on the thread pool reads, kept reachable until it returns. */
const inFlight = new Set<unknown[]>();

/** Rejects (nothing started, no descriptor left open) when the program cannot be started. */
export async function posixSpawn(c: Libc, spec: SpawnSpec): Promise<SessionChild> {
  const strings = [spec.program, ...spec.args, ...Object.entries(spec.env).flat()];
  if (spec.cwd !== undefined) strings.push(spec.cwd);
  if (strings.some((s) => s.includes("\0"))) {
    throw new Error("an argument, variable or directory contains a NUL character");
  }
  const spool = spec.spool;
  const spoolFrom = spool
    ? { stdout: openSpool(spool.stdout), stderr: openSpool(spool.stderr) }
    : undefined;
  const noPipe = new Int32Array([-1, -1]);
  const out = spool ? noPipe : pipe(c);
  const err = spool ? noPipe : pipe(c);
  // Both ends close-on-exec: the child gets the reading end as its stdin by dup2 (which clears
  // the flag there), and no other step ever inherits the writing end, so the child sees end of
  // file the moment this process is gone.
  const gate = spec.held ? pipe(c) : noPipe;
  const actions = new Uint8Array(ACTIONS_BYTES);
  const attr = new Uint8Array(ATTR_BYTES);
  c.posix_spawn_file_actions_init(actions);
  c.posix_spawnattr_init(attr);
  let pid = 0;
  try {
    if (spec.held) c.posix_spawn_file_actions_adddup2(actions, gate[0], 0);
    else c.posix_spawn_file_actions_addopen(actions, 0, cString("/dev/null"), 0, 0);
    if (spool) {
      // The step writes into the files itself: nothing of its output passes through here.
      const flags = O_WRONLY | O_CREAT | O_APPEND;
      c.posix_spawn_file_actions_addopen(actions, 1, cString(spool.stdout), flags, 0o600);
      c.posix_spawn_file_actions_addopen(actions, 2, cString(spool.stderr), flags, 0o600);
    } else {
      c.posix_spawn_file_actions_adddup2(actions, out[1], 1);
      c.posix_spawn_file_actions_adddup2(actions, err[1], 2);
    }
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
    const buffers = [cString(spec.program), pointerArray(argv), pointerArray(envp), argv, envp];
    // The call runs on another thread while this one goes on: every buffer it reads (argv,
    // envp, their strings) must stay reachable until it returns. A local that is not read after
    // the `await` is not kept by the suspended function, and the collector frees what only it
    // referenced: the child then ran `sh` with freed memory for its arguments.
    inFlight.add(buffers);
    let rc: number;
    try {
      rc = await c.posix_spawn(
        new Uint8Array(pidOut.buffer),
        buffers[0] as Uint8Array<ArrayBuffer>,
        actions,
        attr,
        buffers[1] as Uint8Array<ArrayBuffer>,
        buffers[2] as Uint8Array<ArrayBuffer>,
      );
    } finally {
      inFlight.delete(buffers);
    }
    if (rc !== 0) throw new Error(errnoMessage(rc));
    pid = pidOut[0];
    niceAsCaller(c, pid);
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
    if (!spool) {
      c.close(out[1]);
      c.close(err[1]);
      if (pid === 0) {
        c.close(out[0]);
        c.close(err[0]);
      }
    }
    if (spec.held) {
      c.close(gate[0]);
      if (pid === 0) c.close(gate[1]);
    }
  }
  const release = spec.held ? releaser(c, gate[1]) : undefined;
  // Until the watch reaps it, the child stays in /proc even if it has exited; so the watch
  // starts only once its start time is read. Read synchronously: 0.1 ms at the median (a fresh
  // child's stat can take 2 ms now and then), where a trip to the thread pool costs 0.3–1 ms and
  // lets a short step exit before it is recorded running, putting that write on its way out.
  let processStart = "";
  try {
    processStart = parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`), pid).start;
  } catch {
    // not readable: a reap can never match "" then
  }
  const watched = watchChild(c, pid, out[0], err[0]);
  if (!spool) return { pid, processStart, ...watched, release };
  // A group that no longer exists never comes back: the kernel is asked once, not once per stream.
  let gone = false;
  const writersGone = () => {
    if (gone || !groupExists(pid)) return gone = true;
    return groupMembers(pid).length === 0;
  };
  const ends = { exited: watched.status, writersGone };
  return {
    pid,
    processStart,
    status: watched.status,
    stdout: followSpool(spool.stdout, spoolFrom!.stdout, ends),
    stderr: followSpool(spool.stderr, spoolFrom!.stderr, ends),
    spoolFrom,
    release,
  };
}

const goAhead = new TextEncoder().encode("\n");

/** Writes the go-ahead (one byte: a pipe takes it at once) or not, then closes `fd`; once. */
function releaser(c: Libc, fd: number): (go: boolean) => void {
  let open = true;
  return (go) => {
    if (!open) return;
    open = false;
    // A child that already exited leaves no reader: the write fails (EPIPE, the runtime ignores
    // SIGPIPE) and there is nothing left to hold.
    if (go) c.write(fd, goAhead, 1n);
    c.close(fd);
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
 * Gives the step's group the nice value of the thread that started it, as a
 * fork from that thread would have. posix_spawn runs on a thread of Deno's
 * pool, which keeps the nice value it was made with: a `swamp serve` run
 * thread at nice 5 (decision 0038) may hand it to a pool thread made before
 * at 0. Only ever raised (lowering needs privilege); by group, so a process
 * the step already forked gets it too.
 */
function niceAsCaller(c: Libc, pgid: number): void {
  const callers = c.getpriority(PRIO_PROCESS, 0);
  if (callers > 0) c.setpriority(PRIO_PGRP, pgid, callers);
}
