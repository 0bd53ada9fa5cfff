// What a queued step's reason says about workers of other instances: a
// fitting worker connected only elsewhere is named; one connected here too
// (a worker given every instance's URL, decision 0031) is not, since this
// instance can place on it and the reason is about why it has not yet.
import { assertEquals, assertMatch } from "../../test/helpers/assert.ts";
import type { InstanceInfo, PeerWorker } from "../../runtime/mod.ts";
import { elsewhereReason } from "./instances.ts";

const gpu: PeerWorker = {
  id: "w-gpu",
  name: "gpu-1",
  labels: { pool: "gpu" },
  executors: ["loopback"],
  accepting: true,
  concurrency: 1,
  protocol: 3,
};

const peer: InstanceInfo = {
  id: "i-b",
  host: "serve-b",
  pid: 1,
  startTime: new Date(0),
  ageMs: 0,
  released: false,
  workers: [gpu],
};

Deno.test("a fitting worker of another instance is named unless it is connected here too", () => {
  const placement = { labels: { pool: "gpu" } };
  assertMatch(
    elsewhereReason([peer], placement),
    /connected to other instances: gpu-1 on instance i-b \(serve-b\)/,
  );
  assertEquals(elsewhereReason([peer], placement, new Set(["w-gpu"])), "");
  assertEquals(elsewhereReason([peer], { labels: { pool: "cpu" } }), "");
});
