import { assertEquals } from "../../../test/helpers/mod.ts";
import { spawnMethod } from "./session_spawn.ts";

const reachable = spawnMethod("auto") === "posix_spawn";

Deno.test({
  name:
    "posix_spawn: a garbage collection while spawns run on the thread pool corrupts no argument" +
    (reachable ? "" : " (skipped: posix_spawn is not reachable here; steps start through setsid)"),
  ignore: !reachable,
  async fn() {
    // Before the fix, about one spawn in ten of these ran `sh` with freed memory for arguments.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--max-semi-space-size=1",
        new URL("./spawn_under_gc.ts", import.meta.url).pathname,
        "400",
      ],
      stderr: "inherit",
    }).output();
    assertEquals(out.code, 0);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), { wrong: 0, count: 400 });
  },
});
