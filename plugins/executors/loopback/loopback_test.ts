// Loopback-only cases beyond the executor contract: reaping a group whose
// leader is gone and confirming it gone, and the line splitter and output
// capture on edge input.
import { spawn } from "node:child_process";
import { isSameProcessAlive, processStartTime } from "../../../runtime/mod.ts";
import { assert, assertEquals } from "../../../test/helpers/mod.ts";
import { createLoopbackExecutor } from "./mod.ts";
import { LineSplitter, OutputCapture } from "../../../runtime/mod.ts";
import { readProc } from "./process_group.ts";

/** `sh -c 'sleep 300 & echo $!'` in its own session: the leader exits, the sleep stays. */
async function orphanedGroup(): Promise<{ leader: number; leaderStart: string; sleep: number }> {
  const sh = spawn("/bin/sh", ["-c", "sleep 300 >/dev/null 2>&1 & echo $!"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const leader = sh.pid!;
  const leaderStart = readProc(leader)!.start;
  let out = "";
  for await (const chunk of sh.stdout!) out += String(chunk);
  if (sh.exitCode === null) await new Promise((resolve) => sh.once("exit", resolve));
  return { leader, leaderStart, sleep: Number(out.trim()) };
}

async function killIfAlive(pid: number, start: string | undefined): Promise<void> {
  if (start !== undefined && await isSameProcessAlive(pid, start)) Deno.kill(pid, "SIGKILL");
}

Deno.test("loopback reap: ends what is left in a group whose leader is gone", async () => {
  const { leader, leaderStart, sleep } = await orphanedGroup();
  const sleepStart = await processStartTime(sleep);
  try {
    assertEquals(readProc(sleep)?.pgid, leader, "the sleep is in the leader's group");
    const ex = createLoopbackExecutor({ reapGraceMs: 200, killWaitMs: 2000 });
    const lines = await ex.reap({
      executor: "loopback",
      pid: leader,
      pgid: leader,
      processStart: leaderStart,
    });
    assert(lines.some((l) => l.includes("confirmed")), lines.join("\n"));
    assertEquals(await isSameProcessAlive(sleep, sleepStart!), false);
  } finally {
    await killIfAlive(sleep, sleepStart);
  }
});

Deno.test("loopback confirmGone: not while a step's process is left in its group; yes once reaped", async () => {
  const { leader, leaderStart, sleep } = await orphanedGroup();
  const sleepStart = await processStartTime(sleep);
  try {
    const ex = createLoopbackExecutor({ reapGraceMs: 200, killWaitMs: 2000 });
    const recorded = { executor: "loopback", pid: leader, pgid: leader, processStart: leaderStart };
    const before = await ex.confirmGone!(recorded);
    assertEquals(before.gone, false, before.detail);
    assert(before.detail.includes(String(sleep)), before.detail);
    // Members that started before the recorded leader are not the step's: they do not count.
    const older = { ...recorded, processStart: String(BigInt(sleepStart!) + 1n) };
    assertEquals((await ex.confirmGone!(older)).gone, true);
    await ex.reap(recorded);
    const after = await ex.confirmGone!(recorded);
    assertEquals(after.gone, true, after.detail);
  } finally {
    await killIfAlive(sleep, sleepStart);
  }
});

Deno.test("loopback reap: leaves alone group members older than the record", async () => {
  const { leader, sleep } = await orphanedGroup();
  const sleepStart = await processStartTime(sleep);
  try {
    const ex = createLoopbackExecutor({ reapGraceMs: 200 });
    const later = String(BigInt(sleepStart!) + 1n); // the recorded leader started after it
    const lines = await ex.reap({
      executor: "loopback",
      pid: leader,
      pgid: leader,
      processStart: later,
    });
    assert(lines.some((l) => l.includes("left alone")), lines.join("\n"));
    assertEquals(await isSameProcessAlive(sleep, sleepStart!), true);
    const none = await ex.reap({
      executor: "loopback",
      pid: leader,
      pgid: leader,
      processStart: "",
    });
    assert(none[0].includes("left alone"));
    assertEquals(await isSameProcessAlive(sleep, sleepStart!), true);
  } finally {
    await killIfAlive(sleep, sleepStart);
  }
});

Deno.test("loopback lines: CRLF, partial last line, long lines, split characters", () => {
  const s = new LineSplitter(4);
  const enc = (t: string) => new TextEncoder().encode(t);
  const euro = enc("€"); // 3 bytes, fed one at a time
  const lines = [
    ...s.push(enc("ab\r\ncdefghij\n")),
    ...s.push(euro.subarray(0, 1)),
    ...s.push(euro.subarray(1)),
    ...s.push(new Uint8Array([0xff, 0x0a])),
    ...s.push(enc("tail\r")),
    ...s.end(),
  ];
  assertEquals(lines, ["ab", "cdef", "ghij", "€\uFFFD", "tail"]);
});

Deno.test("loopback output: truncation keeps whole characters", () => {
  const c = new OutputCapture(5);
  c.add(new TextEncoder().encode("abc€def"));
  assertEquals([c.text(), c.truncated], ["abc", true]);
  const whole = new OutputCapture(6);
  whole.add(new TextEncoder().encode("abc€"));
  assertEquals([whole.text(), whole.truncated], ["abc€", false]);
});
