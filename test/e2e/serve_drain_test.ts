// SIGTERM to a lone `swamp serve` whose run has a step on a remote worker
// (decision 0030): while it drains, API calls are refused with `unavailable`
// and a message that says why, but the worker's control stream stays open,
// so the worker reports the step's end, the run succeeds within the drain,
// and nothing is cancelled.
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  eventually,
  fileAppears,
  repoWith,
  shellStep,
  statusJson,
  workflowFile,
} from "../helpers/runs.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import { mintWorkerToken, startWorker } from "../helpers/worker.ts";

Deno.test("serve: a drain refuses new calls but lets a step on a worker finish and report", async () => {
  await using repo = await repoWith("sqlite", {});
  const started = `${repo.root}/started`;
  await Deno.writeTextFile(
    `${repo.root}/workflows/workflow-placed.yaml`,
    workflowFile(
      "placed",
      shellStep(
        "there",
        `touch ${started}; sleep 2; echo done-there`,
        '        labels: {pool: "drain"}\n',
      ),
    ),
  );
  const operator = await mintToken(repo.root, "op", "operator");
  await using server = await startServe(repo.root);
  await using worker = startWorker(server.url, [
    "--token",
    await mintWorkerToken(repo.root, "wd", ["pool=drain"]),
    "--cache-dir",
    `${repo.root}/.worker`,
  ]);
  await worker.waitFor("connected");
  const run = await server.cli(["workflow", "run", "placed", "--detach", "--json"], operator);
  assertEquals(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const runId = (run.json as { run: { id: string } }).run.id;
  await fileAppears(started);

  const exiting = server.stop();
  await eventually(
    "the server to drain",
    () => Promise.resolve(server.events.some((e) => e.event === "draining") || undefined),
  );
  const refused = await server.cli(["workflow", "list", "--json"], operator);
  assertEquals(refused.code, 7, refused.stderr);
  assertMatch(`${refused.stdout}${refused.stderr}`, /this swamp serve instance is draining/);

  assertEquals(await exiting, 0);
  const stopped = server.events.find((e) => e.event === "stopped");
  assertEquals([stopped?.cancelled, stopped?.handedOver], [[], []]);
  const done = await statusJson(repo, runId);
  assertEquals(done.status, "succeeded");
  const logs = await repo.cli(["workflow", "logs", runId]);
  assertMatch(logs.stdout, /done-there/);
});
