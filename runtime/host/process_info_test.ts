import { assert, assertEquals } from "../../test/helpers/mod.ts";
import { isSameProcessAlive, processStartTime } from "./process_info.ts";

Deno.test("a live process is recognised by pid and start time, a reused pid is not", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const start = await processStartTime(child.pid);
    assert(start !== undefined && /^\d+$/.test(start), `start time: ${start}`);
    assertEquals(await isSameProcessAlive(child.pid, start!), true);
    assertEquals(await isSameProcessAlive(child.pid, String(Number(start) - 1)), false);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assertEquals(await processStartTime(child.pid), undefined);
});
