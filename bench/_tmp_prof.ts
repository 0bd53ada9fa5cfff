import { noopWorkflow, serve, waitForEnd } from "./api_lib.ts";
import { direct, run, withTempDir } from "./lib.ts";
import { startWorker } from "../test/helpers/worker.ts";
const store = (Deno.args[0] ?? "sqlite") as "sqlite" | "file";
const placed = (yaml: string) => yaml.replace(/^(name: .*)$/m, '$1\nlabels: {bench: "yes"}');
await withTempDir("prof-", async (dir) => {
  const served = await serve(dir, "runs", store, {
    "placed-n": placed(noopWorkflow("placed-n", 40, "m-placed")),
    "local-n": noopWorkflow("local-n", 40, "m-local"),
  }, { tls: true, denoFlags: ["--cpu-prof", "--cpu-prof-dir=/tmp/sprof2"] });
  const token =
    (await run([...direct, "worker", "token", "create", "w", "-q", "--repo", served.repo])).trim();
  const worker = startWorker(served.url, [
    "--token",
    token,
    "--ca-cert",
    served.certFile!,
    "--cache-dir",
    `${dir}/wc`,
    "--label",
    "bench=yes",
  ]);
  await worker.waitFor("connected", 60_000);
  for (const wf of [Deno.args[1] ?? "placed-n"]) {
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      const id = (await served.api.submitRun({ workflow: wf })).run!.id;
      await waitForEnd(served.api, id);
      console.log(wf, (performance.now() - t).toFixed(0));
    }
  }
  await worker[Symbol.asyncDispose]();
  await served.close();
});
