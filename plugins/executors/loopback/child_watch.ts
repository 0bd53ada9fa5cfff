// Watches a child started by posix_spawn: its stdout and stderr pipes and its
// exit, with one poll(2) over all three (the pipes and the child's pidfd).
// Whatever is ready is handled on the event loop with calls that do not
// block; only a poll that has to wait runs on Deno's thread pool, one per
// running step, and it returns within POLL_MS: no step holds a pool thread
// for long, however many run at once.
import { commandStatus, type Libc, POLLIN, SYS_PIDFD_OPEN, WNOHANG } from "./libc.ts";

/** How long one poll waits; also how soon a cancelled stream's descriptor closes. */
const POLL_MS = 250;
/** Without pidfds (Linux before 5.3) the exit is looked for this often. */
const NO_PIDFD_POLL_MS = 50;
const CHUNK_BYTES = 64 * 1024;
/** One read buffer for every watch (reads are synchronous; what is read is copied out at once). */
let scratch: Uint8Array | undefined;
/** Chunks read ahead of the stream's reader at most: past it a pipe is not read (see watch). */
const READ_AHEAD_CHUNKS = 4;
/** How long a poll waits while a pipe is held for its reader: how soon reading resumes. */
const HELD_POLL_MS = 10;

export interface WatchedChild {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<Deno.CommandStatus>;
}

/** A pipe's read end as a stream fed by the watch; `wanted` false once cancelled. */
interface Pipe {
  fd: number;
  controller?: ReadableStreamDefaultController<Uint8Array>;
  wanted: boolean;
}

/** Takes ownership of `outFd` and `errFd` (read ends) and reaps `pid`. */
export function watchChild(c: Libc, pid: number, outFd: number, errFd: number): WatchedChild {
  const pipes: Pipe[] = [{ fd: outFd, wanted: true }, { fd: errFd, wanted: true }];
  const [stdout, stderr] = pipes.map((pipe) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        pipe.controller = controller;
      },
      cancel() {
        pipe.wanted = false; // closed by the watch after its poll in flight returns
      },
    }, new CountQueuingStrategy({ highWaterMark: READ_AHEAD_CHUNKS }))
  );
  let settle!: { resolve: (s: Deno.CommandStatus) => void; reject: (e: unknown) => void };
  const status = new Promise<Deno.CommandStatus>((resolve, reject) => {
    settle = { resolve, reject };
  });
  watch(c, pid, pipes, settle).catch(settle.reject);
  return { stdout, stderr, status };
}

async function watch(
  c: Libc,
  pid: number,
  pipes: Pipe[],
  settle: { resolve: (s: Deno.CommandStatus) => void; reject: (e: unknown) => void },
): Promise<void> {
  const pidFd = Number(c.syscall(SYS_PIDFD_OPEN, BigInt(pid), 0n));
  // struct pollfd {int fd; short events, revents} × 3; a negative fd is skipped by poll.
  const fds = new DataView(new ArrayBuffer(24));
  const fdBytes = new Uint8Array(fds.buffer);
  const buffer = scratch ??= new Uint8Array(CHUNK_BYTES);
  const waitStatus = new Int32Array(1);
  const waitBytes = new Uint8Array(waitStatus.buffer);
  let exited = false;
  let yielded = true;
  let failures = 0;
  const closePipe = (pipe: Pipe, end: boolean) => {
    c.close(pipe.fd);
    pipe.fd = -1;
    if (end && pipe.wanted) pipe.controller!.close();
  };
  try {
    for (;;) {
      if (!exited) {
        const reaped = c.waitpid(pid, waitBytes, WNOHANG);
        if (reaped === pid) {
          exited = true;
          settle.resolve(commandStatus(waitStatus[0]));
        } else if (reaped < 0 && ++failures >= 100) {
          throw new Error(`waitpid(${pid}) kept failing`); // only EINTR is possible, briefly
        }
      }
      if (exited && pipes.every((pipe) => pipe.fd < 0)) return;
      // A pipe whose reader is behind is left unread (poll skips a negative fd): the child then
      // blocks on a full pipe instead of its output piling up here. A cancelled one is read on,
      // so that it is closed.
      const held = pipes.map((pipe) =>
        pipe.fd >= 0 && pipe.wanted && (pipe.controller!.desiredSize ?? 1) <= 0
      );
      const watched = [
        ...pipes.map((pipe, i) => held[i] ? -1 : pipe.fd),
        exited ? -1 : pidFd,
      ];
      watched.forEach((fd, i) => {
        fds.setInt32(i * 8, fd, true);
        fds.setInt16(i * 8 + 4, POLLIN, true);
        fds.setInt16(i * 8 + 6, 0, true);
      });
      // Whatever is ready already is taken without a trip to the thread pool,
      // but only every other round: a child that writes without pause must
      // not keep the event loop from everything else.
      let ready: number = yielded ? c.pollNow(fdBytes, 3n, 0) : 0;
      yielded = ready === 0;
      if (ready === 0) {
        const waitMs = held.some(Boolean)
          ? HELD_POLL_MS
          : exited || pidFd >= 0
          ? POLL_MS
          : NO_PIDFD_POLL_MS;
        ready = await c.poll(fdBytes, 3n, waitMs);
        // A stream can only be cancelled while this loop waits, so here.
        for (const pipe of pipes) if (pipe.fd >= 0 && !pipe.wanted) closePipe(pipe, false);
      }
      if (ready <= 0) continue; // timed out, or interrupted
      pipes.forEach((pipe, i) => {
        if (pipe.fd < 0 || held[i] || fds.getInt16(i * 8 + 6, true) === 0) return;
        const n = Number(c.read(pipe.fd, buffer, BigInt(CHUNK_BYTES)));
        // 0 is end of file; -1 after a poll that found the pipe ready means it broke.
        if (n > 0) pipe.controller!.enqueue(buffer.slice(0, n));
        else closePipe(pipe, true);
      });
    }
  } finally {
    for (const pipe of pipes) if (pipe.fd >= 0) closePipe(pipe, true);
    if (pidFd >= 0) c.close(pidFd);
  }
}
