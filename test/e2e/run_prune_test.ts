// `swamp run prune` as a user drives it, on both stores: finished runs go
// whole (status, logs and listing no longer know them), a live run is left
// running, and through a server only an admin token may prune. At scale:
// 10,000 ended runs pruned in batches, every one of them and nothing else.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  mintToken,
  repoWith,
  runIdOf,
  shellStep,
  startServe,
  statusJson,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";
import { bulkLoad, manyRuns } from "../contracts/prune_fill.ts";
import { RunStatus } from "../contracts/store_messages.ts";

interface PruneJson {
  runs: { id: string; status: string }[];
  bytesFreed: number;
  skipped: number;
  examined: number;
}

const files = {
  "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("hello", "echo hello")),
  "workflows/workflow-broken.yaml": workflowFile("broken", shellStep("fail", "exit 3")),
  "workflows/workflow-slow.yaml": workflowFile("slow", shellStep("wait", "sleep 120")),
};

const listed = async (repo: { cli: (args: string[]) => Promise<{ json: unknown }> }) =>
  ((await repo.cli(["workflow", "list", "--json", "--limit", "1000"])).json as {
    runs: { id: string; status: string }[];
  }).runs.map((run) => run.id).sort();

for (const store of storeKinds) {
  Deno.test(`run prune (${store}): finished runs go whole, a live one keeps running, admin only`, async () => {
    await using repo = await repoWith(store, files);
    const quick = runIdOf(await repo.cli(["workflow", "run", "quick"]));
    const broken = await repo.cli(["workflow", "run", "broken"]);
    assertEquals(broken.code, 1);
    const failed = runIdOf(broken);
    const slow = runIdOf(await repo.cli(["workflow", "run", "slow", "--detach"]));
    await eventually("the slow run's step to run", async () => {
      const run = await statusJson(repo, slow);
      return run.steps[0]?.status === "running" ? run : undefined;
    });
    // Old enough for --older-than 1s: ended runs age, the live one has no end.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const dry = await repo.cli(["run", "prune", "--older-than", "1s", "--dry-run", "--json"]);
    assertEquals(dry.code, 0, dry.stderr);
    const wouldGo = (dry.json as PruneJson).runs.map((run) => run.id).sort();
    assertEquals(wouldGo, [quick, failed].sort());
    assertEquals(await listed(repo), [quick, failed, slow].sort(), "a dry run deletes nothing");

    const live = await repo.cli(["run", "prune", "--older-than", "1s", "--status", "running"]);
    assertEquals(live.code, 2);
    assertMatch(live.stderr, /error\[usage\]: prune deletes only finished runs; running/);

    // The failed run locally, through the alias beside the other run verbs.
    const local = await repo.cli([
      "workflow",
      "prune",
      "--older-than",
      "1s",
      "--status",
      "failed",
    ]);
    assertEquals(local.code, 0, local.stderr);
    assertMatch(local.stdout, /^pruned 1 run\(s\), [\d.]+ (B|KiB) freed \(of 1 examined\)\n$/);

    // The succeeded one through a server: an operator may not, an admin may.
    await using server = await startServe(repo.root);
    const operator = await mintToken(repo.root, "ops", "operator");
    const refused = await server.cli(["run", "prune", "--older-than", "1s", "--json"], operator);
    const error = (refused.json as { error: { code: string; message: string } }).error;
    assertEquals(error.code, "permission_denied");
    assertMatch(error.message, /RunService\/PruneRuns needs admin/);
    assertEquals(await listed(repo), [quick, slow].sort());
    const admin = await mintToken(repo.root, "root", "admin");
    const remote = await server.cli(["run", "prune", "--older-than", "1s", "--json"], admin);
    assertEquals(remote.code, 0, remote.stderr);
    const pruned = remote.json as PruneJson;
    assertEquals(pruned.runs.map((run) => [run.id, run.status]), [[quick, "succeeded"]]);
    assert(pruned.bytesFreed > 0, "the bytes freed are counted");
    assertEquals([pruned.skipped, pruned.examined], [0, 1]);

    assertEquals(await listed(repo), [slow]);
    for (const gone of [quick, failed]) {
      const status = await repo.cli(["workflow", "status", gone, "--json"]);
      assertEquals((status.json as { error: { code: string } }).error.code, "not_found");
      const logs = await repo.cli(["workflow", "logs", gone]);
      assertMatch(logs.stderr, /not_found/);
    }
    const still = await statusJson(repo, slow);
    assertEquals([still.status, still.steps[0].status], ["running", "running"]);
  });

  Deno.test(`run prune (${store}): 10,000 ended runs pruned in batches, nothing else`, async () => {
    await using repo = await repoWith(store, {});
    const path = store === "file" ? `${repo.root}/.swamp` : `${repo.root}/.swamp/swamp.db`;
    const day = 86_400_000;
    const now = Date.now();
    const old = manyRuns(10_000, { endMs: now - 40 * day });
    const recent = manyRuns(150, { endMs: now - day });
    const otherWorkflow = manyRuns(50, { endMs: now - 40 * day, workflow: "weekly" });
    const suspended = manyRuns(20, { endMs: now - 40 * day, status: RunStatus.SUSPENDED });
    await bulkLoad(store, path, [...old, ...recent, ...otherWorkflow, ...suspended]);

    const result = await repo.cli([
      "run",
      "prune",
      "--older-than",
      "30d",
      "--workflow",
      "nightly",
      "--json",
    ]);
    assertEquals(result.code, 0, result.stderr);
    const pruned = result.json as PruneJson;
    assertEquals(pruned.runs.length, old.length);
    assertEquals(new Set(pruned.runs.map((run) => run.id)).size, old.length);
    // Listed: the finished runs of nightly (suspended runs are not finished, weekly is another).
    assertEquals([pruned.examined, pruned.skipped], [old.length + recent.length, 0]);
    const left = new Set(await listed(repo));
    const kept = [...recent, ...otherWorkflow, ...suspended].map((run) => run.summary.id);
    assertEquals(left.size, kept.length);
    for (const id of kept) assert(left.has(id), `run ${id} is kept`);
    for (const run of old.slice(0, 5)) {
      const status = await repo.cli(["workflow", "status", run.summary.id, "-q"]);
      assertMatch(status.stderr, /not_found/);
    }
  });
}
