import { assert } from "../test/helpers/assert.ts";
import { threadCpuMs } from "./thread_cpu.ts";

Deno.test("thread CPU time grows with work and not with waiting, which is what the deadline counts", () => {
  const waitStart = threadCpuMs();
  const wallStart = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  const waitedWall = Date.now() - wallStart;
  const waitedCpu = threadCpuMs() - waitStart;
  assert(waitedWall >= 290, `waited ${waitedWall} ms of wall time`);
  assert(waitedCpu < 100, `a blocked thread was charged ${waitedCpu} ms of CPU`);

  // Busy work must show up as CPU time, however loaded the machine: work until it
  // does (a broken reading never advances, and the bound ends the loop).
  const workStart = threadCpuMs();
  const giveUp = Date.now() + 20_000;
  let x = 0;
  while (threadCpuMs() - workStart < 50 && Date.now() < giveUp) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(x + i);
  }
  const worked = threadCpuMs() - workStart;
  assert(x > 0 && worked >= 50, `20 s of busy work was charged only ${worked} ms of CPU`);
});
