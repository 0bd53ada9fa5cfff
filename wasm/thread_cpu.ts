// CPU time spent by the calling thread, for the sandbox's deadline: a busy
// neighbour (another worker, another test file) must not count against an
// expression. On Linux it is read from /proc/thread-self/stat; elsewhere from
// Node's `process.threadCpuUsage` (present in Deno), or the process's CPU time
// as the next best bound. The Node module is imported only there: it brings in
// Deno's Node layer, about 30 ms of start-up for every process that evaluates
// an expression.

type CpuUsage = { user: number; system: number };

/** Linux reports utime and stime in USER_HZ ticks, 100 a second on every architecture we run. */
const msPerTick = 10;

/** utime + stime of this thread in ms, or undefined where /proc does not say. */
function procThreadCpuMs(): number | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync("/proc/thread-self/stat");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields count from its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * msPerTick : undefined;
}

let read: (() => number) | undefined;
/** Where the readings come from (for the tests). */
export let threadCpuSource: "proc" | "node" | undefined;

/** Chooses where threadCpuMs reads from; call before the first reading. */
export async function prepareThreadCpu(): Promise<void> {
  if (read) return;
  if (procThreadCpuMs() !== undefined) {
    read = () => {
      const ms = procThreadCpuMs();
      // A reading that stood still would let a runaway expression run on: say so instead.
      if (ms === undefined) throw new Error("/proc/thread-self/stat can no longer be read");
      return ms;
    };
    threadCpuSource = "proc";
    return;
  }
  const { default: process } = await import("node:process");
  const threadUsage = (process as unknown as { threadCpuUsage?: () => CpuUsage }).threadCpuUsage;
  const usage: () => CpuUsage = threadUsage
    ? () => threadUsage.call(process)
    : () => process.cpuUsage();
  read = () => {
    const { user, system } = usage();
    return (user + system) / 1000;
  };
  threadCpuSource = "node";
}

/** Milliseconds of CPU time used by this thread so far (coarse: about 10 ms steps). */
export function threadCpuMs(): number {
  if (!read) throw new Error("threadCpuMs before prepareThreadCpu");
  return read();
}
