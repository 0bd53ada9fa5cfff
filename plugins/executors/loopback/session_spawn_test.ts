// Starting a step in its own session through posix_spawn: real processes,
// read back from /proc. The executor contract covers the rest of the step's life.
import { assert, assertEquals, assertThrows } from "../../../test/helpers/mod.ts";
import { readProc } from "./process_group.ts";
import { type SessionChild, spawnInSession, spawnMethod } from "./session_spawn.ts";

const env = { PATH: "/usr/bin:/bin", X: "from the step env" };
const sh = (script: string, cwd?: string): SessionChild =>
  spawnInSession({ program: "/bin/sh", args: ["-c", script], env, cwd }, "posix_spawn");
const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const openFds = () => [...Deno.readDirSync("/proc/self/fd")].length;

Deno.test("posix_spawn is what a Linux host with glibc uses (Deno itself links glibc)", () => {
  assertEquals(spawnMethod("auto"), { method: "posix_spawn", why: "" });
  assertEquals(spawnMethod("setsid").method, "setsid");
});

Deno.test("posix_spawn: the child leads its own session and group, in cwd, with env", async () => {
  const child = sh('cat /proc/$$/stat; pwd; echo "$X"; echo oops >&2; exit 7', "/tmp");
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
  const child = sh("cat /proc/self/status; kill -TERM $$");
  const [out, , status] = await Promise.all([text(child.stdout), text(child.stderr), child.status]);
  const signals1to31 = (1n << 31n) - 1n; // 32 and up include glibc's own, which it keeps
  assertEquals(mask(out, "SigIgn") & signals1to31, 0n);
  assertEquals(mask(out, "SigBlk"), 0n);
  assertEquals(status, { success: false, code: 143, signal: "SIGTERM" });
});

Deno.test("posix_spawn: a program or cwd that is not there throws and leaks no descriptor", async () => {
  const before = openFds();
  assertThrows(
    () => spawnInSession({ program: "/no/such/program", args: [], env }, "posix_spawn"),
    "No such file or directory (os error 2)",
  );
  assertThrows(() => sh("true", "/no/such/dir"), "os error 2");
  assertThrows(() => sh("echo a\0b"), "NUL character");
  const child = sh("echo fine");
  assertEquals(await text(child.stdout), "fine\n");
  await text(child.stderr);
  await child.status;
  assertEquals(openFds(), before);
});

Deno.test("posix_spawn: many children with more output than a pipe holds all finish", async () => {
  const before = openFds();
  const children = Array.from({ length: 40 }, () => sh("head -c 200000 /dev/zero; exit 3"));
  const results = await Promise.all(children.map(async (child) => {
    const [out, , status] = await Promise.all([
      new Response(child.stdout).arrayBuffer(),
      text(child.stderr),
      child.status,
    ]);
    return [out.byteLength, status.code];
  }));
  assertEquals(results, children.map(() => [200000, 3]));
  assertEquals(openFds(), before);
});

Deno.test("posix_spawn: reading can stop while a process outside the group holds the pipe", async () => {
  const before = openFds();
  // The sleep leaves the group (its own session) and keeps stdout open.
  const child = sh("setsid sleep 30 2>/dev/null & echo $!");
  const reader = child.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const sleeper = Number(first.trim());
  try {
    assertEquals((await child.status).code, 0);
    await text(child.stderr);
    const pending = reader.read(); // no end of file: the sleep holds the write end
    await reader.cancel();
    assertEquals((await pending).done, true);
    // The descriptor closes once the poll in flight returns (within 250 ms).
    for (let i = 0; i < 50 && openFds() !== before; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(openFds(), before);
  } finally {
    Deno.kill(sleeper, "SIGKILL");
  }
});
