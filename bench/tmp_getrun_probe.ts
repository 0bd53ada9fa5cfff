import { noopWorkflow, serve } from "./api_lib.ts";
import { percentile, withTempDir } from "./lib.ts";
await withTempDir("probe-", async (dir) => {
  const wf = noopWorkflow("load", 100, "noop").replaceAll('run: "true"', 'run: "sleep 0.05"');
  const s = await serve(dir, "probe", (Deno.env.get("STORE") ?? "file") as "file", {
    load: wf,
    one: noopWorkflow("one", 1, "noop2"),
  }, {
    denoFlags: Deno.env.get("PROF") ? ["--cpu-prof", `--cpu-prof-dir=${Deno.env.get("PROF")}`] : [],
  });
  try {
    const one = (await s.api.submitRun({ workflow: "one" })).run!.id;
    await s.released(one);
    const running = (await s.api.submitRun({ workflow: "load" })).run!.id;
    await new Promise((r) => setTimeout(r, 1000));
    for (
      const [label, id] of [["finished", one], ["running", running], ["finished", one], [
        "running",
        running,
      ]]
    ) {
      const ms: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await s.api.getRun({ runId: id });
        ms.push(performance.now() - t);
      }
      console.log(
        label,
        "p50",
        percentile(ms, 50).toFixed(2),
        "p90",
        percentile(ms, 90).toFixed(2),
        "p99",
        percentile(ms, 99).toFixed(2),
      );
    }
  } finally {
    await s.close();
  }
});
