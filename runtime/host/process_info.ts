// What the operating system says about processes, for telling a live owner
// from a dead one and a process from another that reuses its pid. Linux:
// /proc; elsewhere the functions answer "unknown" and callers fall back to
// heartbeats.

/** The fields of /proc/<pid>/stat after the command name, or undefined when it cannot be read. */
async function statFields(pid: number): Promise<string[] | undefined> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces.
  // fields[0] is field 3 (state); field 22 (start time) is fields[19].
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * The start time of a process as the kernel reports it (clock ticks since
 * boot, /proc/<pid>/stat field 22), or undefined when the process does not
 * exist or cannot be read.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[19];
}

/** The process's state letter (R, S, Z, …), or undefined if it is gone. */
export async function processState(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[0];
}

let ownStart: Promise<string | undefined> | undefined;

/**
 * Whether the process that had `pid` and started at `start` is still alive
 * (a zombie counts as gone). Undefined when the OS cannot say. This process
 * is alive by definition: `swamp serve` asks about the runs it owns on every
 * read, and needs no /proc read for them.
 */
export async function isSameProcessAlive(pid: number, start: string): Promise<boolean | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  if (pid === Deno.pid && start === await (ownStart ??= processStartTime(Deno.pid))) return true;
  const fields = await statFields(pid);
  return fields !== undefined && fields[19] === start && fields[0] !== "Z";
}

let cachedBootId: string | undefined;

/** Changes at every boot; with the pid and start time it names a process uniquely. */
export async function bootId(): Promise<string> {
  if (cachedBootId !== undefined) return cachedBootId;
  try {
    cachedBootId = (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim();
  } catch {
    cachedBootId = "";
  }
  return cachedBootId;
}

export function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}
