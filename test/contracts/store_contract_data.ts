// The data part of the store contract (runtime/ports/data.ts): versions that
// count up per (model, name), the content hash, retried writes, listings in
// order with filters and cursors, the size limit, and distinct versions when
// processes race on one item. Pruning runs leaves data (store_contract_prune.ts
// covers the runs; here, a pruned run's items stay).
import {
  canonicalJson,
  type DataDraft,
  type DataItem,
  ErrorCode,
  finishedStatuses,
  MAX_DATA_ATTRIBUTES_BYTES,
  sha256HexSync,
  SwampError,
} from "../../runtime/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/mod.ts";
import { race, type Spec } from "./store_contract_processes.ts";
import type { StoreTest } from "./store_contract_tokens.ts";
import { endedRun } from "./store_contract_prune.ts";
import { runId, RunStatus } from "./store_messages.ts";

const t0 = new Date(1_700_000_000_000);

function draft(model: string, name: string, attributes: unknown, more: Partial<DataDraft> = {}) {
  return {
    model,
    modelType: "aws/ec2",
    name,
    spec: "instance",
    attributes,
    tags: {},
    runId: "run-1",
    stepId: "deploy/create",
    attempt: 1,
    now: t0,
    ...more,
  } satisfies DataDraft;
}

const coded = (error: unknown, code: ErrorCode) =>
  error instanceof SwampError && error.code === code;
const keys = (items: DataItem[]) => items.map((i) => `${i.model}/${i.name}@${i.version}`);

export function dataContract(test: StoreTest): void {
  test("data: the first write is version 1, hashed, and reads back whole", async ({ store }) => {
    const attributes = { b: [1, "two", null], a: { nested: true } };
    const item = await store.putData(draft("web", "server", attributes, { leaseId: "L1" }));
    assertMatch(item.id, /^[0-9a-f-]{36}$/);
    const expected: DataItem = {
      id: item.id,
      model: "web",
      modelType: "aws/ec2",
      name: "server",
      spec: "instance",
      version: 1,
      hash: `sha256:${sha256HexSync('{"a":{"nested":true},"b":[1,"two",null]}')}`,
      attributes,
      tags: {},
      runId: "run-1",
      stepId: "deploy/create",
      attempt: 1,
      leaseId: "L1",
      createTime: t0,
    };
    assertEquals(item, expected);
    assertEquals(await store.getData("web", "server"), expected);
    assertEquals(await store.getData("web", "server", 1), expected);
    assertEquals(await store.getData("web", "server", 2), undefined);
    assertEquals(await store.getData("web", "other"), undefined);
    assertEquals(await store.listDataVersions("web", "server"), [1]);
    assertEquals(await store.listDataVersions("nope", "server"), []);
    assertEquals(canonicalJson(attributes), '{"a":{"nested":true},"b":[1,"two",null]}');
  });

  test("data: each write is the next version; the same write retried is not", async ({ store }) => {
    const v1 = await store.putData(draft("m", "n", { x: 1 }));
    const retried = await store.putData(draft("m", "n", { x: 1 }));
    assertEquals(retried, v1);
    // Same content from another writer (a later attempt) is a new version.
    const v2 = await store.putData(draft("m", "n", { x: 1 }, { attempt: 2 }));
    const v3 = await store.putData(draft("m", "n", { x: 2 }, { attempt: 2 }));
    assertEquals([v2.version, v3.version], [2, 3]);
    assertEquals(v2.hash, v1.hash);
    assert(v3.hash !== v2.hash);
    assertEquals(await store.listDataVersions("m", "n"), [1, 2, 3]);
    assertEquals((await store.getData("m", "n"))?.attributes, { x: 2 });
    assertEquals((await store.getData("m", "n", 1))?.id, v1.id);
    // Key order does not change the hash.
    const a = await store.putData(draft("m", "k", { p: 1, q: 2 }));
    const b = await store.putData(draft("m", "k", { q: 2, p: 1 }));
    assertEquals([a.version, b.version, a.hash === b.hash], [1, 1, true]);
  });

  test("data: a reopened store keeps the items", async ({ reopen }) => {
    const first = await reopen();
    const item = await first.putData(draft("web", "db", { size: 3 }, { tags: { env: "prod" } }));
    const again = await reopen();
    assertEquals(await again.getData("web", "db"), item);
  });

  test("data: listings are the newest of each item, by model then name, paged", async ({ store }) => {
    for (
      const [model, name] of [["b", "y"], ["a", "z"], ["b", "x"], ["a", "y"], ["swamp/x", "a b"]]
    ) {
      await store.putData(draft(model, name, { v: 1 }));
    }
    await store.putData(draft("a", "y", { v: 2 }, { attempt: 2 }));
    const all = await store.listData({});
    assertEquals(keys(all.items), ["a/y@2", "a/z@1", "b/x@1", "b/y@1", "swamp/x/a b@1"]);
    assertEquals(all.nextCursor, undefined);
    const every = await store.listData({ allVersions: true });
    assertEquals(keys(every.items).slice(0, 3), ["a/y@2", "a/y@1", "a/z@1"]);
    // Pages of two, following the cursor, give the same order with nothing twice.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listData({ allVersions: true, limit: 2, cursor });
      assert(page.items.length <= 2);
      seen.push(...keys(page.items));
      cursor = page.nextCursor;
    } while (cursor);
    assertEquals(seen, keys(every.items));
    assertEquals(keys((await store.listData({ model: "b" })).items), ["b/x@1", "b/y@1"]);
    assertEquals(keys((await store.listData({ name: "y" })).items), ["a/y@2", "b/y@1"]);
    assertEquals(keys((await store.listData({ model: "swamp/x" })).items), ["swamp/x/a b@1"]);
  });

  test("data: filters by spec, run and tag", async ({ store }) => {
    await store.putData(draft("m", "one", 1, { spec: "vpc", runId: "r1", tags: { env: "prod" } }));
    await store.putData(
      draft("m", "two", 2, { spec: "subnet", runId: "r2", tags: { env: "dev" } }),
    );
    await store.putData(draft("m", "two", 3, { spec: "subnet", runId: "r3", tags: {} }));
    assertEquals(keys((await store.listData({ spec: "subnet" })).items), ["m/two@2"]);
    assertEquals(keys((await store.listData({ runId: "r2" })).items), []);
    assertEquals(keys((await store.listData({ runId: "r2", allVersions: true })).items), [
      "m/two@1",
    ]);
    assertEquals(keys((await store.listData({ tag: ["env", "prod"] })).items), ["m/one@1"]);
    assertEquals(keys((await store.listData({ tag: ["env", "dev"] })).items), []);
    assertEquals(keys((await store.listData({ model: "m", spec: "vpc" })).items), ["m/one@1"]);
  });

  test("data: attributes over the size limit are refused with data_too_large", async ({ store }) => {
    const big = "x".repeat(MAX_DATA_ATTRIBUTES_BYTES);
    await assertRejects(
      () => store.putData(draft("m", "big", { big })),
      (e) => coded(e, ErrorCode.DATA_TOO_LARGE) && /m\/big is too large/.test(String(e)),
    );
    assertEquals(await store.listDataVersions("m", "big"), []);
    await assertRejects(
      () => store.putData(draft("m", "bad", { n: Number.NaN })),
      (e) => coded(e, ErrorCode.USAGE),
    );
    await assertRejects(() => store.listData({ cursor: "nope" }), (e) => coded(e, ErrorCode.USAGE));
  });

  test("data: pruning the run that wrote an item leaves the item", async ({ store }) => {
    const day = 86_400_000;
    const ended = Date.UTC(2026, 0, 1);
    const id = await endedRun(store, RunStatus.SUCCEEDED, ended);
    const item = await store.putData(draft("m", "kept", { a: 1 }, { runId: id }));
    const pruned = await store.pruneRun(id, {
      endedBeforeMs: ended + day,
      statuses: finishedStatuses,
    });
    assert(pruned, "the run was pruned");
    assertEquals(await store.loadRun(id), undefined);
    assertEquals(await store.getData("m", "kept"), item);
    assertEquals(keys((await store.listData({ runId: id })).items), ["m/kept@1"]);
  });

  test(
    "data: processes racing on one item each get distinct versions 1..N",
    async (fixture) => {
      const run = runId();
      const specs: Spec[] = ["p1", "p2", "p3", "p4"].map((writer) => ({
        writer,
        mode: "data",
        runId: run,
        dataModel: "race",
        dataName: "item",
        count: 10,
      }));
      const results = await race<{ versions: number[] }>(fixture, specs);
      const versions = results.flatMap((result) => result.versions).sort((a, b) => a - b);
      assertEquals(versions, Array.from({ length: 40 }, (_, i) => i + 1));
      assertEquals(await fixture.store.listDataVersions("race", "item"), versions);
      for (const result of results) {
        assert(result.versions.every((v, i) => i === 0 || v > result.versions[i - 1]));
      }
      const newest = await fixture.store.getData("race", "item");
      assertEquals(newest?.version, 40);
    },
    { processes: true },
  );
}
