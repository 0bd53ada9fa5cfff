// A process that writes versions of one data item until it is killed, for
// store_data_kill_test.ts: prints each version it got, one a line.
//
//   deno run -A store_data_loop.ts '<json {module, exportName, args}>'
import type { RunStore } from "../../runtime/mod.ts";

const opener = JSON.parse(Deno.args[0]) as { module: string; exportName: string; args: string[] };
const store: RunStore = await (await import(opener.module))[opener.exportName](...opener.args);
const encoder = new TextEncoder();
for (let i = 0;; i++) {
  const item = await store.putData({
    model: "crash",
    modelType: "test/crash",
    name: "item",
    spec: "",
    // Large enough that a write takes more than one system call.
    attributes: { i, padding: "x".repeat(200_000) },
    tags: {},
    runId: "crash-run",
    stepId: "loop",
    attempt: 1,
    now: new Date(),
  });
  await Deno.stdout.write(encoder.encode(`${item.version}\n`));
}
