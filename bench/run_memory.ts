// Peak memory of `swamp workflow run` following a run, and of the run's
// supervisor, sampled from /proc while it runs (bench/submit.ts part 3,
// bench/extension_method.ts part 2).
import { launcher } from "./lib.ts";
import { delay, findSupervisor } from "./runs_lib.ts";

const text = new TextDecoder();

export interface MemoryResult {
  /** Largest sum of the two processes' VmRSS seen in one sample, kB. */
  sumKb: number;
  /**
   * Largest memory the two take from the machine together in one sample, kB:
   * each one's private pages (Private_Clean + Private_Dirty) plus the larger of
   * their shared pages (Shared_Clean + Shared_Dirty), mostly the Deno binary
   * and libraries both map. RSS counts those (about 38 MB) in each process;
   * Pss splits them among every process that maps them, the benchmark's own
   * and any other Deno on the machine included, so it would count too little.
   */
  togetherKb: number;
  cliHwmKb: number;
  supervisorHwmKb: number;
  ms: number;
}

/** kB of one field of /proc/<pid>/status, or undefined once the process is gone. */
async function procKb(pid: number, field: string): Promise<number | undefined> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => undefined);
  if (status === undefined || /^State:\s+Z/m.test(status)) return undefined;
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
}

/** A process's private and shared resident pages from /proc/<pid>/smaps_rollup, kB. */
async function residentKb(pid: number): Promise<{ own: number; shared: number }> {
  const rollup = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`).catch(() => "");
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? 0);
  return {
    own: kb("Private_Clean") + kb("Private_Dirty"),
    shared: kb("Shared_Clean") + kb("Shared_Dirty"),
  };
}

/**
 * `swamp workflow run <name>` followed to the end (the CLI stays alive), with
 * the CLI's and the supervisor's VmRSS sampled every 20 ms and their VmHWM
 * kept: the launcher execs Deno, so the spawned pid is the CLI's.
 */
export async function runSampled(
  repo: string,
  name: string,
  options: { allowFailure?: boolean } = {},
): Promise<MemoryResult> {
  const start = performance.now();
  const child = new Deno.Command(launcher[0], {
    args: [...launcher.slice(1), "workflow", "run", name],
    cwd: repo,
    // The run's supervisor is then the one the CLI starts (its child, found at once), not one
    // that waited for the run (decision 0032): the same engine, but found only through the run's
    // record, which would take samples' time. The waiting one is an idle process of its own.
    env: { SWAMP_STANDBY_IDLE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The last of what it said on stderr, for the error if it fails.
  let said = "";
  const listening = (async () => {
    for await (const chunk of child.stderr) said = (said + text.decode(chunk)).slice(-2000);
  })();
  let runId = "";
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout) {
      if (runId) continue;
      buffered += text.decode(chunk);
      if (buffered.includes("\n")) runId = buffered.split("\n")[0].trim();
    }
  })();
  let done = false;
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  let supervisor: number | undefined;
  const result: MemoryResult = {
    sumKb: 0,
    togetherKb: 0,
    cliHwmKb: 0,
    supervisorHwmKb: 0,
    ms: 0,
  };
  while (!done) {
    // The CLI starts the supervisor ahead as it starts (its child, `--standby`): found before the
    // run id is printed, so a short run's supervisor is not gone before it is looked for.
    if (supervisor === undefined) {
      supervisor = await findSupervisor(runId || undefined, { parentPid: child.pid });
    }
    const cli = await procKb(child.pid, "VmRSS") ?? 0;
    const sup = supervisor === undefined ? 0 : await procKb(supervisor, "VmRSS") ?? 0;
    result.sumKb = Math.max(result.sumKb, cli + sup);
    const a = await residentKb(child.pid);
    const b = supervisor === undefined ? { own: 0, shared: 0 } : await residentKb(supervisor);
    result.togetherKb = Math.max(result.togetherKb, a.own + b.own + Math.max(a.shared, b.shared));
    result.cliHwmKb = Math.max(result.cliHwmKb, await procKb(child.pid, "VmHWM") ?? 0);
    if (supervisor !== undefined) {
      result.supervisorHwmKb = Math.max(
        result.supervisorHwmKb,
        await procKb(supervisor, "VmHWM") ?? 0,
      );
    }
    await delay(20);
  }
  result.ms = performance.now() - start;
  await reading;
  await listening;
  const ended = await status;
  if (!ended.success && !options.allowFailure) {
    throw new Error(`workflow run ${name} exited ${ended.code}: …${said}`);
  }
  // A sum without the supervisor would look like a pass.
  if (supervisor === undefined) {
    throw new Error(`never found the supervisor of run ${runId}`);
  }
  return result;
}
