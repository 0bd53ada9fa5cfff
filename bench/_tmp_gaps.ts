import { noopWorkflow, serve, waitForEnd } from "./api_lib.ts";
import { direct, run, withTempDir } from "./lib.ts";
import { startWorker } from "../test/helpers/worker.ts";
const store = (Deno.args[0] ?? "sqlite") as "sqlite" | "file";
const placed = (yaml: string) => yaml.replace(/^(name: .*)$/m, '$1\nlabels: {bench: "yes"}');
await withTempDir("prof-", async (dir) => {
  const served = await serve(dir, "runs", store, {
    "placed-n": placed(noopWorkflow("placed-n", 40, "m-placed")),
    "local-n": noopWorkflow("local-n", 40, "m-local"),
  }, { tls: true });
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
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  for (let i = 0; i < 6; i++) {
    for (const wf of ["local-n", "placed-n"]) {
      const id = (await served.api.submitRun({ workflow: wf })).run!.id;
      await waitForEnd(served.api, id);
      const r = (await served.api.getRun({ runId: id })).run!;
      const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
        Number(t!.seconds) * 1000 + t!.nanos / 1e6;
      const steps = r.steps;
      const inside = steps.map((s) => ms(s.endTime) - ms(s.startTime));
      const gaps = steps.slice(1).map((s, k) => ms(s.startTime) - ms(steps[k].endTime));
      console.log(
        wf.padEnd(9),
        "in-step",
        med(inside).toFixed(2),
        "gap",
        med(gaps).toFixed(2),
        "total",
        (ms(r.endTime) - ms(r.createTime)).toFixed(0),
      );
    }
  }
  await worker[Symbol.asyncDispose]();
  await served.close();
});
