// The few C library calls the loopback executor makes through Deno's FFI to
// start a step in its own session without exec'ing setsid(1) first (see
// docs/design/0009-posix-spawn-steps.md). Opened once, on first use; when
// the library cannot be opened (no --allow-ffi, not glibc) callers fall back.

const SYMBOLS = {
  // On Deno's blocking-thread pool: glibc's posix_spawn returns only once the
  // child has exec'd (a vfork), a millisecond or more on a busy host, which
  // the event loop of the thread running the engine should not sit out.
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  // Run on a thread of Deno's pool, never on the event loop. Every call made
  // there is bounded (a poll times out), so running steps never hold the
  // pool's threads for long, however many there are.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  /** poll with a zero timeout: what is ready now, without a trip to the pool. */
  pollNow: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // Nice values: a thread's own (PRIO_PROCESS with its id, 0 for the calling thread on Linux)
  // and a step's process group's (PRIO_PGRP).
  getpriority: { parameters: ["i32", "u32"], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  // pidfd_open(2) through syscall(2): glibc wraps it only from 2.36 on.
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

// Linux values (the same on x86-64 and arm64).
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_APPEND = 0o2000;
export const POSIX_SPAWN_SETSIGDEF = 0x04;
export const POSIX_SPAWN_SETSIGMASK = 0x08;
export const POSIX_SPAWN_SETSID = 0x80;
export const POLLIN = 0x1;
export const WNOHANG = 1;
export const PRIO_PROCESS = 0;
export const PRIO_PGRP = 1;
/** The same number on x86-64 and arm64 (numbers from 424 on are shared). */
export const SYS_PIDFD_OPEN = 434n;
// Large enough for glibc's posix_spawnattr_t (336 bytes), posix_spawn_file_actions_t
// (80) and sigset_t (128) on 64-bit Linux.
export const ATTR_BYTES = 512;
export const ACTIONS_BYTES = 256;
export const SIGSET_BYTES = 128;

let opened: Libc | null | undefined;

/** The C library, or null when it cannot be used here (reason in `unavailableReason`). */
export function libc(): Libc | null {
  if (opened !== undefined) return opened;
  opened = null;
  if (Deno.build.os !== "linux") {
    unavailableReason = `not Linux (${Deno.build.os})`;
    return opened;
  }
  try {
    opened = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (error) {
    unavailableReason = error instanceof Error ? error.message : String(error);
  }
  return opened;
}

export let unavailableReason = "";

const encoder = new TextEncoder();

/** A NUL-terminated copy of `text`. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length * 3 + 1);
  const { written } = encoder.encodeInto(text, bytes);
  return bytes.subarray(0, written + 1);
}

/**
 * A NULL-terminated array of pointers to `strings`, as argv and envp are
 * passed; the strings must stay referenced until the call that reads it returns.
 */
export function pointerArray(strings: Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer> {
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => {
    pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)));
  });
  return new Uint8Array(pointers.buffer);
}

// Linux signal numbers, for exit statuses read with waitpid.
const SIGNAL_NAMES: Deno.Signal[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];

/** A waitpid status as Deno reports a child's: a signal death is code 128 + signal. */
export function commandStatus(waitStatus: number): Deno.CommandStatus {
  const signal = waitStatus & 0x7f;
  if (signal === 0) {
    const code = (waitStatus >> 8) & 0xff;
    return { success: code === 0, code, signal: null };
  }
  return { success: false, code: 128 + signal, signal: SIGNAL_NAMES[signal - 1] ?? null };
}

// What posix_spawn's error numbers mean, in the words Deno uses for the same errors.
const ERRNO_TEXT: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  7: "Argument list too long",
  8: "Exec format error",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  20: "Not a directory",
  21: "Is a directory",
  24: "Too many open files",
  26: "Text file busy",
  40: "Too many levels of symbolic links",
};

export function errnoMessage(errno: number): string {
  return `${ERRNO_TEXT[errno] ?? "error"} (os error ${errno})`;
}
