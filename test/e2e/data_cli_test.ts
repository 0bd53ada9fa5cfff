// `swamp data list|get|query` through the real CLI on a real repository
// (each store), with items put through the store API first; and data.* in a
// real workflow run's expressions.
import { openRepoStore } from "../../cli/wiring.ts";
import type { DataDraft } from "../../runtime/mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  mintToken,
  repoWith,
  shellStep,
  startServe,
  statusJson,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

const t0 = new Date(Date.UTC(2026, 11, 1, 9));

const draft = (model: string, name: string, attributes: unknown, more: Partial<DataDraft> = {}) =>
  ({
    model,
    modelType: "aws/ec2",
    name,
    spec: "instance",
    attributes,
    tags: { env: "prod" },
    runId: "run-seed",
    stepId: "seed/put",
    attempt: 1,
    now: t0,
    ...more,
  }) satisfies DataDraft;

async function seed(root: string) {
  const store = await openRepoStore(root);
  try {
    await store.putData(draft("web", "server", { ip: "10.0.0.1", size: 2 }));
    await store.putData(draft("web", "server", { ip: "10.0.0.7", size: 4 }, { attempt: 2 }));
    await store.putData(draft("web", "disk", { size: 100 }, { spec: "volume", tags: {} }));
    await store.putData(draft("db", "main", { size: 8, engine: "pg" }));
  } finally {
    await store.close();
  }
}

type Item = Record<string, unknown> & { model: string; name: string; version: number };

for (const store of storeKinds) {
  Deno.test(`[${store}] data list, get and query show the items put through the store`, async () => {
    await using repo = await repoWith(store, {});
    await seed(repo.root);

    const list = await repo.cli(["data", "list", "--json"]);
    assertEquals(list.code, 0, list.stderr);
    const items = (list.json as { items: Item[] }).items;
    assertEquals(items.map((i) => `${i.model} ${i.name} ${i.version}`), [
      "db main 1",
      "web disk 1",
      "web server 2",
    ]);
    assertEquals(items[2].attributes, undefined, "list leaves attributes out");
    assertMatch(String(items[2].hash), /^sha256:[0-9a-f]{64}$/);
    assertEquals(items[2].createTime, "2026-12-01T09:00:00Z");

    const versions = await repo.cli(["data", "list", "--model", "web", "--all-versions", "-q"]);
    assertEquals(versions.stdout, "web\tdisk\nweb\tserver\nweb\tserver\n");
    const bySpec = await repo.cli(["data", "list", "--spec", "volume", "--json"]);
    assertEquals((bySpec.json as { items: Item[] }).items.map((i) => i.name), ["disk"]);
    const paged = await repo.cli(["data", "list", "--limit", "2"]);
    assertMatch(paged.stderr, /more: swamp data list --limit 2 --cursor \S+/);

    const got = await repo.cli(["data", "get", "web", "server"]);
    assertEquals(got.code, 0, got.stderr);
    assertEquals(got.stdout, "ip: 10.0.0.7\nsize: 4\n");
    assertMatch(
      got.stderr,
      /^web server version 2 of 2 · sha256:[0-9a-f]{64} · written by run run-seed step seed\/put attempt 2/,
    );
    const old = await repo.cli(["data", "get", "web", "server", "--version", "1", "--json"]);
    assertEquals((old.json as { item: Item }).item.attributes, { ip: "10.0.0.1", size: 2 });
    const missing = await repo.cli(["data", "get", "web", "server", "--version", "9"]);
    assertEquals(missing.code, 4);
    assertMatch(missing.stderr, /has no version 9/);
    assertMatch(missing.stderr, /its versions: 1, 2/);

    const query = await repo.cli(["data", "query", "item.attributes.size > 3", "--json"]);
    assertEquals(query.code, 0, query.stderr);
    const found = (query.json as { items: Item[] }).items;
    assertEquals(found.map((i) => `${i.model} ${i.name}`), ["db main", "web disk", "web server"]);
    const web = await repo.cli([
      "data",
      "query",
      'item.model == "web" && item.spec == "instance"',
      "-q",
    ]);
    assertEquals(web.stdout, "web\tserver\n");

    const bad = await repo.cli(["data", "query", "item.attributes.size >"]);
    assertEquals(bad.code, 3);
    assertMatch(bad.stderr, /expression_invalid/);
    const failing = await repo.cli(["data", "query", "item.attributes.engine == 'pg'"]);
    assertEquals(failing.code, 3);
    assertMatch(failing.stderr, /on web (disk|server)/);
    assertMatch(failing.stderr, /has\(item\.attributes\.x\)/);
  });
}

Deno.test("the runtime's state lists as built-in models, never a secret", async () => {
  await using repo = await repoWith("file", {});
  const made = await repo.cli(["worker", "token", "create", "edge", "--duration", "1h", "--json"]);
  assertEquals(made.code, 0, made.stderr);
  const list = await repo.cli(["data", "list", "--model", "swamp/enrollment-token", "--json"]);
  assertEquals(list.code, 0, list.stderr);
  const items = (list.json as { items: Item[] }).items;
  assertEquals(items.map((i) => [i.model, i.name, i.spec, i.version]), [
    ["swamp/enrollment-token", "edge", "enrollment-token", 1],
  ]);
  const got = await repo.cli(["data", "get", "swamp/enrollment-token", "edge", "--json"]);
  const attributes = (got.json as { item: Item }).item.attributes as Record<string, unknown>;
  assertEquals(attributes.name, "edge");
  assertEquals(attributes.state, "unused");
  const text = JSON.stringify(got.json);
  const credential = (made.json as { credential?: string }).credential;
  assertMatch(String(credential), /^edge\.\S+$/);
  const secret = String(credential).slice("edge.".length);
  assert(!text.includes(secret), text);
  assert(!/secret/i.test(text), text);
  const workers = await repo.cli(["data", "list", "--model", "swamp/worker", "--json"]);
  assertEquals((workers.json as { items: Item[] }).items, []);
  const unused = 'item.attributes.state == "unused"';
  const query = await repo.cli([
    "data",
    "query",
    "--model",
    "swamp/enrollment-token",
    unused,
    "-q",
  ]);
  assertEquals([query.code, query.stdout], [0, "swamp/enrollment-token\tedge\n"], query.stderr);
  // An unfiltered query reads only stored items, so predicates written for them keep working.
  const all = await repo.cli(["data", "query", unused, "-q"]);
  assertEquals([all.code, all.stdout], [0, ""], all.stderr);
});

for (const store of storeKinds) {
  Deno.test(`[${store}] a workflow's expressions read data.latest and data.findBySpec`, async () => {
    const steps = shellStep(
      "show",
      'echo "ip=${{ data.latest("web", inputs.item).attributes.ip }} n=${{ size(data.findBySpec("web", "instance")) }} v=${{ data.listVersions("web", "server") }} none=${{ data.latest("web", "nope") == null }}"',
    );
    const workflow = workflowFile(
      "reads-data",
      steps,
      "inputs:\n  properties:\n    item: {type: string, default: server}\n",
    );
    await using repo = await repoWith(store, { "workflows/workflow-reads-data.yaml": workflow });
    await seed(repo.root);
    const validate = await repo.cli(["workflow", "validate", "reads-data"]);
    assertEquals(validate.code, 0, validate.stdout + validate.stderr);
    const result = await repo.cli(["workflow", "run", "reads-data"]);
    assertEquals(result.code, 0, result.stderr);
    const runId = result.stdout.split("\n")[0];
    const run = await statusJson(repo, runId);
    const step = run.steps.find((s) => s.id === "main/show");
    assertEquals(String(step?.outputs?.stdout), "ip=10.0.0.7 n=1 v=[1,2] none=true\n");
  });
}

Deno.test("data list, get and query through swamp serve with a viewer token", async () => {
  await using repo = await repoWith("file", {});
  await seed(repo.root);
  const viewer = await mintToken(repo.root, "watcher", "viewer");
  await using server = await startServe(repo.root);
  const list = await server.cli(["data", "list", "--json"], viewer);
  assertEquals(list.code, 0, list.stderr);
  assertEquals((list.json as { items: Item[] }).items.map((i) => `${i.model} ${i.name}`), [
    "db main",
    "web disk",
    "web server",
  ]);
  const got = await server.cli(["data", "get", "web", "server"], viewer);
  assertEquals(got.stdout, "ip: 10.0.0.7\nsize: 4\n");
  const query = await server.cli(["data", "query", 'item.name == "main"', "-q"], viewer);
  assertEquals(query.stdout, "db\tmain\n");
  const ofWeb = await server.cli(
    ["data", "query", "--model", "web", "item.version > 0", "-q"],
    viewer,
  );
  assertEquals(ofWeb.stdout, "web\tdisk\nweb\tserver\n");
  const bad = await server.cli(["data", "query", "item.name =="], viewer);
  assertEquals(bad.code, 3, bad.stderr);
  const anonymous = await server.cli(["data", "list"]);
  assertEquals(anonymous.code, 8, anonymous.stderr);
});
