// CPU time spent by the calling thread, for the sandbox's deadline. Node's
// `process.threadCpuUsage` (present in Deno) measures this thread alone, so a
// busy neighbour (another worker, another test file) does not count against an
// expression. Where it is missing, process CPU time is the next best bound.

import process from "node:process";

type CpuUsage = { user: number; system: number };
const threadUsage = (process as unknown as { threadCpuUsage?: () => CpuUsage }).threadCpuUsage;
const read: () => CpuUsage = threadUsage
  ? () => threadUsage.call(process)
  : () => process.cpuUsage();

/** Milliseconds of CPU time used by this thread so far (coarse: about 10 ms steps). */
export function threadCpuMs(): number {
  const { user, system } = read();
  return (user + system) / 1000;
}
