// Starting a step in its own session through posix_spawn: real processes,
// read back from /proc. The executor contract covers the rest of the step's life.
import { assert, assertEquals, assertRejects } from "../../../test/helpers/mod.ts";
import { unavailableReason } from "./libc.ts";
import { readProc } from "./process_group.ts";
import { type SessionChild, spawnInSession, spawnMethod } from "./session_spawn.ts";

const env = { PATH: "/usr/bin:/bin", X: "from the step env" };
const sh = (script: string, cwd?: string): Promise<SessionChild> =>
  spawnInSession({ program: "/bin/sh", args: ["-c", script], env, cwd }, "posix_spawn");
const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const rejectsWith = (fn: () => Promise<unknown>, fragment: string) =>
  assertRejects(fn, (error) => error instanceof Error && error.message.includes(fragment));

// Test modules run in parallel in this one process, so descriptors are told
// apart by what they are, never counted as a whole.
function ourDescriptors(): { link: string; fd: string }[] {
  const found = [];
  for (const { name } of Deno.readDirSync("/proc/self/fd")) {
    try {
      found.push({ link: Deno.readLinkSync(`/proc/self/fd/${name}`), fd: name });
    } catch {
      // closed while we looked
    }
  }
  return found;
}
const pipeCount = () => ourDescriptors().filter((d) => d.link.startsWith("pipe:")).length;
/** The pipes a live child writes its stdout and stderr to. */
const pipesOf = (pid: number) => [1, 2].map((fd) => Deno.readLinkSync(`/proc/${pid}/fd/${fd}`));

/** Pipes of `pipes` we still hold, and pidfds of processes already reaped (a pidfd left open). */
async function leftOpen(pipes: string[]): Promise<string[]> {
  let left: string[] = [];
  // A pidfd is closed just after its child is reaped, maybe by another module's
  // step at this very moment: only one that stays counts.
  for (let look = 0; look < 3; look++) {
    left = ourDescriptors().filter(({ link, fd }) => {
      if (pipes.includes(link)) return true;
      if (link !== "anon_inode:[pidfd]") return false;
      try {
        return /^Pid:\s*-1$/m.test(Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`));
      } catch {
        return false;
      }
    }).map(({ link }) => link);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return left;
}

Deno.test("posix_spawn is what a Linux host with glibc uses (Deno itself links glibc)", () => {
  assertEquals(spawnMethod("auto"), "posix_spawn", `libc cannot be used: ${unavailableReason}`);
  assertEquals(spawnMethod("setsid"), "setsid");
});

Deno.test("posix_spawn: the child leads its own session and group, in cwd, with env", async () => {
  const child = await sh('cat /proc/$$/stat; pwd; echo "$X"; echo oops >&2; exit 7', "/tmp");
  const [out, err, status] = await Promise.all([
    text(child.stdout),
    text(child.stderr),
    child.status,
  ]);
  const [stat, cwd, x] = out.trim().split("\n");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // The shell's own stat: pid, and (fields 5 and 6) its group and session.
  const pid = Number(stat.split(" ")[0]);
  assertEquals(pid, child.pid);
  assertEquals([Number(fields[2]), Number(fields[3])], [pid, pid]);
  assert(readProc(Deno.pid)?.pgid !== pid);
  assertEquals([cwd, x, err], ["/tmp", "from the step env", "oops\n"]);
  assertEquals(status, { success: false, code: 7, signal: null });
});

Deno.test("posix_spawn: signals start at their defaults, none blocked; a signal death is 128+n", async () => {
  // This process ignores SIGPIPE (Rust's runtime does); the step must not.
  const mask = (status: string, field: string) =>
    BigInt("0x" + new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status)![1]);
  const sigpipe = 1n << 12n;
  assert((mask(Deno.readTextFileSync("/proc/self/status"), "SigIgn") & sigpipe) !== 0n);
  const child = await sh("cat /proc/self/status; kill -TERM $$");
  const [out, , status] = await Promise.all([text(child.stdout), text(child.stderr), child.status]);
  const signals1to31 = (1n << 31n) - 1n; // 32 and up include glibc's own, which it keeps
  assertEquals(mask(out, "SigIgn") & signals1to31, 0n);
  assertEquals(mask(out, "SigBlk"), 0n);
  assertEquals(status, { success: false, code: 143, signal: "SIGTERM" });
});

Deno.test("posix_spawn: a program or cwd that is not there throws and leaks no descriptor", async () => {
  const before = pipeCount();
  for (let i = 0; i < 30; i++) {
    await rejectsWith(
      () => spawnInSession({ program: "/no/such/program", args: [], env }, "posix_spawn"),
      "No such file or directory (os error 2)",
    );
    await rejectsWith(() => sh("true", "/no/such/dir"), "os error 2");
  }
  await rejectsWith(() => sh("echo a\0b"), "NUL character");
  // Each failed spawn would leave 4 pipe ends open if it leaked: 240 in all.
  assert(pipeCount() - before < 30, `pipes open: ${before} before, ${pipeCount()} after`);
  const child = await sh("sleep 0.2; echo fine");
  const pipes = pipesOf(child.pid);
  assertEquals(await text(child.stdout), "fine\n");
  await text(child.stderr);
  await child.status;
  assertEquals(await leftOpen(pipes), []);
});

Deno.test("posix_spawn: many children with more output than a pipe holds all finish", async () => {
  // Each pauses first, so that its pipes can be looked up while it lives.
  const pipes: string[] = [];
  const children = await Promise.all(Array.from({ length: 40 }, async () => {
    const child = await sh("sleep 0.5; head -c 200000 /dev/zero; exit 3");
    pipes.push(...pipesOf(child.pid));
    return child;
  }));
  const results = await Promise.all(children.map(async (child) => {
    const [out, , status] = await Promise.all([
      new Response(child.stdout).arrayBuffer(),
      text(child.stderr),
      child.status,
    ]);
    return [out.byteLength, status.code];
  }));
  assertEquals(results, children.map(() => [200000, 3]));
  assertEquals(await leftOpen(pipes), []);
});

Deno.test("posix_spawn: a child that writes without pause leaves the event loop running", async () => {
  const child = await sh("exec yes");
  // Only this timer stops the child: if reading kept the event loop busy, it
  // would never fire and the test would not end.
  const timer = setTimeout(() => Deno.kill(child.pid, "SIGTERM"), 200);
  let bytes = 0;
  for await (const chunk of child.stdout) bytes += chunk.length;
  await text(child.stderr);
  clearTimeout(timer);
  assertEquals((await child.status).signal, "SIGTERM");
  assert(bytes > 0);
});

Deno.test("posix_spawn: reading can stop while a process outside the group holds the pipe", async () => {
  // The sleep leaves the group (its own session) and keeps stdout open.
  const child = await sh("setsid sleep 30 2>/dev/null & echo $!");
  const reader = child.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const sleeper = Number(first.trim());
  const [stdoutPipe] = pipesOf(sleeper);
  try {
    assertEquals((await child.status).code, 0);
    await text(child.stderr);
    const pending = reader.read(); // no end of file: the sleep holds the write end
    await reader.cancel();
    assertEquals((await pending).done, true);
    // Our read end closes once the poll in flight returns (within 250 ms).
    const ours = () => ourDescriptors().filter((d) => d.link === stdoutPipe).length;
    for (let i = 0; i < 50 && ours() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assertEquals(ours(), 0);
  } finally {
    Deno.kill(sleeper, "SIGKILL");
  }
});

Deno.test("posix_spawn: a child that writes faster than its reader reads blocks on the pipe", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-held-pipe-" });
  try {
    // 20 MB, then a mark: far more than the pipe and the read-ahead hold.
    const child = await sh(`seq -f '%0999g' 1 20000; touch ${dir}/done`);
    const reader = child.stdout.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await Deno.stat(`${dir}/done`).then(() => true, () => false);
    assertEquals(done, false, "the child wrote everything while nobody read");
    let bytes = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      bytes += chunk.value.length;
    }
    assert(bytes > 19_000_000, `read ${bytes} bytes after the first chunk`);
    assertEquals((await child.status).code, 0);
    await new Response(child.stderr).text();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
