// A step takes the nice value of the thread that starts it, whichever thread
// of Deno's pool runs its posix_spawn (decision 0038).
import { assertEquals } from "../../../test/helpers/mod.ts";
import { libc } from "./libc.ts";

/** Run on a thread of its own: its nice value is raised there, and a thread cannot lower it again. */
const threadCode = (spawnModule: string, libcModule: string) => `
import { spawnInSession } from "${spawnModule}";
import { libc, PRIO_PROCESS } from "${libcModule}";
const c = libc();
// A trip to the pool first, at nice 0: the pool thread it makes stays at 0, idle, for the next call.
await Deno.readTextFile("/proc/self/stat");
// 0: the calling thread, on Linux.
c.setpriority(PRIO_PROCESS, 0, 4);
const nices = [];
for (let i = 0; i < 5; i++) {
  const child = await spawnInSession(
    { program: "/bin/sleep", args: ["30"], env: { PATH: "/usr/bin:/bin" } },
    "posix_spawn",
  );
  // Read from outside once the spawn has returned: what the step runs at from then on.
  const stat = Deno.readTextFileSync(\`/proc/\${child.pid}/stat\`);
  nices.push(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  Deno.kill(-child.pid, "SIGKILL");
  await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.status;
}
self.postMessage({ thread: c.getpriority(PRIO_PROCESS, 0), nices });
`;

Deno.test({
  name:
    "loopback: a step started by a thread at nice 4 runs at nice 4, though a pool thread at 0 spawns it",
  ignore: libc() === null,
  async fn() {
    const code = threadCode(
      new URL("./session_spawn.ts", import.meta.url).href,
      new URL("./libc.ts", import.meta.url).href,
    );
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    try {
      const said = await new Promise<{ thread: number; nices: string[] }>((resolve, reject) => {
        worker.onmessage = (message) => resolve(message.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(event.error ?? new Error(event.message));
        };
      });
      assertEquals(said, { thread: 4, nices: ["4", "4", "4", "4", "4"] });
    } finally {
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  },
});
