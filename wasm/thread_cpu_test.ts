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

  const workStart = threadCpuMs();
  const workWallStart = Date.now();
  let x = 0;
  while (Date.now() - workWallStart < 300) x += Math.sqrt(x + 1);
  const worked = threadCpuMs() - workStart;
  assert(x > 0 && worked > 30, `300 ms of busy work was charged only ${worked} ms of CPU`);
});
