// CPU time of a process by thread, from /proc (Linux), for budgets such as
// "the server's run thread uses 2.7 ms of CPU per run". Threads are grouped
// by name (Deno names a Worker's thread after it, e.g. "worker-1"; V8's GC
// helpers are "V8 DefaultWorke", Deno's thread pool "tokio-runtime-w"), plus
// the CPU of children it has reaped (a server's step processes). Nothing
// here asserts on time.

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU ms so far by thread name, plus "[children]" (reaped children); empty off Linux. */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const ms = (fields: string[], a: number, b: number) =>
    (Number(fields[a]) + Number(fields[b])) * 1000 / ticksPerSecond;
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(name, (out.get(name) ?? 0) + ms(fields, 11, 12)); // utime, stime
      } catch {
        // the thread ended while we looked
      }
    }
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    out.set("[children]", ms(stat.slice(stat.lastIndexOf(")") + 2).split(" "), 13, 14));
  } catch {
    out.clear();
  }
  return out;
}

/** "name 1.23, …" ms per unit of work between two readings, largest first. */
export function cpuPerUnit(
  before: Map<string, number>,
  after: Map<string, number>,
  units: number,
): string {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / units] as const)
    .filter(([, ms]) => ms > 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(", ");
}
