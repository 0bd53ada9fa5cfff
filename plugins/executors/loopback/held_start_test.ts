// A step's command runs only once whoever started it has taken the `started`
// event (decision 0039): started by a real process that is then killed with
// SIGKILL while holding that event, the step runs nothing; given the go-ahead,
// it runs. Both ways of starting a session, a script and a program.
import { assert, assertEquals, eventually } from "../../../test/helpers/mod.ts";
import { createLoopbackExecutor } from "./mod.ts";
import { readProc } from "./process_group.ts";
import { libc } from "./libc.ts";
import type { StepEvent, StepWork } from "../../../runtime/mod.ts";

/** Starts one step writing `marker`, prints its `started` process, then holds or goes on. */
const starterCode = (loopbackModule: string) => `
import { createLoopbackExecutor } from "${loopbackModule}";
const [shape, marker, spawn, hold] = Deno.args;
const script = "echo ran > " + marker;
const work = {
  runId: "r", stepId: "s", graceMs: 500, outputLimitBytes: 1 << 20,
  env: { PATH: "/usr/bin:/bin" },
  command: shape === "script" ? { script } : { argv: ["/bin/sh", "-c", script] },
};
setInterval(() => {}, 60_000);
for await (const event of createLoopbackExecutor({ spawn }).dispatch(work, new AbortController().signal)) {
  if (event.type === "started") {
    console.log(JSON.stringify(event.process));
    // Held as an engine holds it while its record of the step is written.
    if (hold === "hold") await new Promise(() => {});
  }
  if (event.type === "exited") console.log(JSON.stringify({ exitCode: event.exitCode }));
}
Deno.exit(0);
`;

const config = new URL("../../../deno.json", import.meta.url).pathname;
const spawns = libc() ? ["auto", "setsid"] as const : ["setsid"] as const;

function work(command: StepWork["command"]): StepWork {
  return {
    runId: "r",
    stepId: "s",
    graceMs: 500,
    outputLimitBytes: 1 << 20,
    env: { PATH: "/usr/bin:/bin" },
    command,
  };
}

/** Gone, or a zombie nobody reaps (a container's first process may not). */
function ended(pid: number): boolean {
  const info = readProc(pid);
  return info === undefined || info.state === "Z";
}

for (const spawn of spawns) {
  for (const shape of ["script", "argv"] as const) {
    Deno.test(`loopback (${spawn}, ${shape}): a step whose starter is killed before it lets go runs nothing`, async () => {
      const dir = await Deno.makeTempDir({ prefix: "swamp-held-" });
      const file = `${dir}/starter.ts`;
      await Deno.writeTextFile(file, starterCode(new URL("./mod.ts", import.meta.url).href));
      const starter = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", config, file, shape, `${dir}/ran`, spawn, "hold"],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const lines = starter.stdout.pipeThrough(new TextDecoderStream()).getReader();
      try {
        const { value } = await lines.read();
        const { pid, pgid } = JSON.parse(value!.split("\n")[0]);
        // Held: alive, in its own group, and nothing of its command has run.
        assertEquals(readProc(pid)?.pgid, pgid);
        assert(!ended(pid), "the held process is alive");
        starter.kill("SIGKILL");
        assertEquals((await starter.status).signal, "SIGKILL");
        await eventually(
          "the held process to end on its own",
          () => Promise.resolve(ended(pid) || undefined),
          10_000,
        );
        const ran = await Deno.stat(`${dir}/ran`).then(() => true, () => false);
        assertEquals(ran, false, "the step's command ran with nobody left to record it");
      } finally {
        lines.releaseLock();
        await starter.stdout.cancel().catch(() => {});
        try {
          starter.kill("SIGKILL");
        } catch { /* already gone */ }
        await starter.status;
        await Deno.remove(dir, { recursive: true });
      }
    });
  }

  Deno.test(`loopback (${spawn}): released, a held step runs; closed early or cancelled while held, it runs nothing`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "swamp-held-" });
    try {
      const executor = createLoopbackExecutor({ spawn, killWaitMs: 2000 });
      // Asked for every event: the step runs, and its exit status is its command's own.
      const events: StepEvent[] = [];
      const ran = work({ argv: ["/bin/sh", "-c", `echo ran > ${dir}/ran; exit 7`] });
      for await (const event of executor.dispatch(ran, new AbortController().signal)) {
        events.push(event);
      }
      const exited = events.at(-1);
      assertEquals(exited?.type === "exited" && exited.exitCode, 7);
      assertEquals(await Deno.readTextFile(`${dir}/ran`), "ran\n");
      // The consumer stops at `started` (its record failed): the command never runs.
      const stopped = work({ script: `echo ran > ${dir}/stopped` });
      let pid = 0;
      for await (const event of executor.dispatch(stopped, new AbortController().signal)) {
        if (event.type === "started") pid = event.process.pid;
        break;
      }
      assert(pid > 0);
      await eventually(
        "the held process to end",
        () => Promise.resolve(ended(pid) || undefined),
        10_000,
      );
      assertEquals(await Deno.stat(`${dir}/stopped`).then(() => true, () => false), false);
      // Cancelled while held (its record being written): it never gets the go-ahead.
      const controller = new AbortController();
      const cancelled = work({ script: `echo ran > ${dir}/cancelled` });
      let last: StepEvent | undefined;
      for await (const event of executor.dispatch(cancelled, controller.signal)) {
        if (event.type === "started") controller.abort();
        last = event;
      }
      assertEquals(last?.type === "exited" && last.cancelled, true);
      assertEquals(await Deno.stat(`${dir}/cancelled`).then(() => true, () => false), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
