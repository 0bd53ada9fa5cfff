// A supervisor that exits just as `workflow run` lets go of it must not turn
// a started run into an internal error (seen once in the suite as "Bad
// resource ID"): unref of a child that has just exited is a no-op.
import { assertEquals } from "../test/helpers/mod.ts";
import { unrefChild } from "./wiring.ts";

Deno.test("unrefChild: children exiting around the moment of the unref never throw", async () => {
  let unrefs = 0;
  for (let i = 0; i < 100; i++) {
    const child = new Deno.Command("sleep", {
      args: ["0.02"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Racing the exit as launchSupervisor does: some unrefs land before it, some just after.
    await new Promise((resolve) => setTimeout(resolve, 15 + (i % 10)));
    unrefChild(child);
    unrefs++;
    const keepAlive = setInterval(() => {}, 1000); // the unref'd status alone would not
    await child.status;
    clearInterval(keepAlive);
  }
  assertEquals(unrefs, 100);
});
