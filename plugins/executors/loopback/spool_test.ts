// A step with a spool (decision 0024): its output goes into the files, the
// events carry where each line ends in its file (a last line without a
// newline too), stdout is still kept as the output, and a process left in
// the group is ended as before.
import type { StepEvent, StepWork } from "../../../runtime/mod.ts";
import { assertEquals } from "../../../test/helpers/mod.ts";
import { createLoopbackExecutor } from "./mod.ts";

Deno.test("loopback with a spool: lines from the files, with their end offsets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-spool-" });
  try {
    const work: StepWork = {
      runId: "r",
      stepId: "s",
      command: { script: "echo one; echo two >&2; printf 'três\\nlast'; (sleep 0.2; echo late) &" },
      env: { PATH: "/usr/bin:/bin" },
      graceMs: 2000,
      outputLimitBytes: 1024,
      spool: { dir, name: "s.1" },
    };
    const events: StepEvent[] = [];
    for await (const e of createLoopbackExecutor({}).dispatch(work, new AbortController().signal)) {
      events.push(e);
    }
    const out = events.flatMap((e) =>
      e.type === "output" ? [`${e.stream} ${e.line} @${e.spoolOffset}`] : []
    );
    // The background process is ended with the group (a swamp: line, not from the files).
    const fromFiles = out.filter((l) => !l.startsWith("stderr swamp:"));
    assertEquals(fromFiles.filter((l) => l.startsWith("stdout")), [
      "stdout one @4",
      "stdout três @10",
      "stdout last @14",
    ]);
    assertEquals(fromFiles.filter((l) => l.startsWith("stderr")), ["stderr two @4"]);
    assertEquals(await Deno.readTextFile(`${dir}/s.1.out`), "one\ntrês\nlast");
    assertEquals(await Deno.readTextFile(`${dir}/s.1.err`), "two\n");
    const exited = events.at(-1) as Extract<StepEvent, { type: "exited" }>;
    assertEquals([exited.type, exited.exitCode, exited.stdout], ["exited", 0, "one\ntrês\nlast"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
