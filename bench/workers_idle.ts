// (c) of bench/workers.ts: what connected idle workers cost the server.
// `swamp serve` (TLS, file store) runs in a child process; the benchmark
// reads its /proc/<pid>/{status,stat,io} with 0 workers, then with N idle
// workers attached (bench/workers_fleet.ts, one process holding N real
// agents), each over the same window. Store writes are the files under the
// repository's .swamp/ changed in the window, and the bytes the server sent
// to storage (/proc/<pid>/io write_bytes).
// Run alone: deno run --allow-all bench/workers_idle.ts
// (BENCH_WORKERS_IDLE, default 100; BENCH_WORKERS_WINDOW_S, default 20)
import { serve } from "./api_lib.ts";
import { deno, direct, envInt, root, run, table, withTempDir } from "./lib.ts";

const TICKS = 100; // USER_HZ on Linux

interface Sample {
  rssKb: number;
  cpuTicks: number;
  writeBytes: number;
}

async function sample(pid: number): Promise<Sample> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const io = await Deno.readTextFile(`/proc/${pid}/io`).catch(() => "");
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuTicks: Number(fields[11]) + Number(fields[12]), // utime + stime (fields 14, 15)
    writeBytes: Number(/write_bytes:\s+(\d+)/.exec(io)?.[1] ?? 0),
  };
}

/** Every file under `dir` with its modification time. */
async function mtimes(dir: string, into = new Map<string, number>()): Promise<Map<string, number>> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await mtimes(path, into);
    else if (entry.isFile) {
      const info = await Deno.stat(path).catch(() => undefined);
      if (info?.mtime) into.set(path, info.mtime.getTime());
    }
  }
  return into;
}

interface Window {
  cpuSecondsPerMin: number;
  filesChangedPerMin: number;
  writeKbPerMin: number;
  changed: string[];
}

async function window(pid: number, store: string, seconds: number): Promise<Window> {
  const before = await mtimes(store);
  const a = await sample(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const b = await sample(pid);
  const after = await mtimes(store);
  const changed = [...after].filter(([path, t]) => before.get(path) !== t).map(([p]) => p);
  const perMin = 60 / seconds;
  return {
    cpuSecondsPerMin: (b.cpuTicks - a.cpuTicks) / TICKS * perMin,
    filesChangedPerMin: changed.length * perMin,
    writeKbPerMin: (b.writeBytes - a.writeBytes) / 1024 * perMin,
    changed: changed.map((p) => p.slice(store.length + 1)),
  };
}

async function mintAll(repo: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 4) {
    const batch = Array.from({ length: Math.min(4, n - i) }, (_, j) => i + j);
    tokens.push(
      ...(await Promise.all(
        batch.map((k) =>
          run([...direct, "worker", "token", "create", `idle-${k}`, "-q", "--repo", repo])
        ),
      )).map((s) => s.trim()),
    );
  }
  return tokens;
}

export async function main(): Promise<void> {
  const n = envInt("BENCH_WORKERS_IDLE", 100);
  const seconds = envInt("BENCH_WORKERS_WINDOW_S", 20);
  await withTempDir("swamp-bench-idle-", async (dir) => {
    const served = await serve(dir, "idle", "file", {}, { tls: true });
    let fleet: Deno.ChildProcess | undefined;
    try {
      const tokens = await mintAll(served.repo, n);
      await Deno.writeTextFile(`${dir}/tokens`, tokens.join("\n"));
      await new Promise((resolve) => setTimeout(resolve, 3000)); // let start-up settle
      const rss0 = (await sample(served.pid)).rssKb;
      const idle0 = await window(served.pid, `${served.repo}/.swamp`, seconds);

      fleet = new Deno.Command(deno, {
        args: [
          "run",
          "--quiet",
          "--allow-all",
          `--config=${root}/deno.json`,
          `${root}/bench/workers_fleet.ts`,
          served.url,
          served.certFile!,
          `${dir}/tokens`,
          `${dir}/work`,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const reader = fleet.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let said = "";
      const deadline = Date.now() + 180_000;
      while (!said.includes(`connected ${n}`)) {
        if (Date.now() > deadline) throw new Error(`not all ${n} workers connected: ${said}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`the fleet exited: ${said}`);
        said += value;
      }
      void reader.cancel().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 6000)); // one heartbeat round, settled
      const rssN = (await sample(served.pid)).rssKb;
      const idleN = await window(served.pid, `${served.repo}/.swamp`, seconds);

      console.log(
        `(c) \`swamp serve\` (pid ${served.pid}, TLS, file store) with ${n} idle workers ` +
          `against none; windows of ${seconds} s; heartbeat every 5 s (the default)`,
      );
      console.log(table(
        ["case", "RSS MB", "CPU s/min", "store files changed/min", "disk KB/min"],
        [
          ["0 workers (baseline)", rss0 / 1024, idle0],
          [`${n} idle workers`, rssN / 1024, idleN],
        ].map(([label, rss, w]) => {
          const win = w as Window;
          return [
            String(label),
            (rss as number).toFixed(1),
            win.cpuSecondsPerMin.toFixed(3),
            win.filesChangedPerMin.toFixed(1),
            win.writeKbPerMin.toFixed(1),
          ];
        }),
      ));
      const perWorkerKb = (rssN - rss0) / n;
      const cpuPerWorker = (idleN.cpuSecondsPerMin - idle0.cpuSecondsPerMin) / n;
      console.log(
        `per idle worker: RSS +${perWorkerKb.toFixed(0)} KB, CPU ` +
          `${(cpuPerWorker * 1000).toFixed(2)} ms/min ` +
          `(${(cpuPerWorker / 60 * 100).toFixed(4)} % of a core)`,
      );
      console.log(
        `heartbeat cost per minute with ${n} idle workers: ` +
          `${(idleN.cpuSecondsPerMin - idle0.cpuSecondsPerMin).toFixed(3)} CPU s, ` +
          `${(idleN.filesChangedPerMin - idle0.filesChangedPerMin).toFixed(1)} store files ` +
          `changed${idleN.changed.length ? ` (${[...new Set(idleN.changed)].join(", ")})` : ""}`,
      );
    } finally {
      if (fleet) {
        try {
          fleet.kill("SIGKILL");
        } catch { /* already gone */ }
        await fleet.status;
      }
      await served.close();
    }
  });
}

if (import.meta.main) await main();
