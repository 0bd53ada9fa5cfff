import { assertEquals } from "../../../test/helpers/assert.ts";
import { SwampError } from "../../errors/mod.ts";
import { type Candidate, checkExecutorNames, choose, queueReason } from "./placement.ts";

const worker: Candidate = {
  id: "w-1",
  name: "a",
  labels: { gpu: "false" },
  executors: ["loopback"],
  accepting: true,
  running: 0,
  concurrency: 1,
  protocol: 2,
};

Deno.test("placement: the queue reason says what is missing and how many are connected", () => {
  assertEquals(
    queueReason([worker, { ...worker, id: "w-2" }], { labels: { gpu: "true" } }),
    'no connected worker has labels {gpu: "true"}; 2 workers connected',
  );
  assertEquals(
    queueReason([{ ...worker, running: 1 }], {}),
    "every worker that can take a step is busy (1 at their concurrency); 1 worker connected",
  );
});

Deno.test("placement: a step goes only to a worker that offers its executor", () => {
  const docker = { ...worker, id: "w-2", name: "b", executors: ["loopback", "docker"] };
  const onlyDocker = { ...worker, id: "w-3", name: "c", executors: ["docker"] };
  assertEquals(choose([worker, docker], { executor: "docker" })?.id, "w-2");
  assertEquals(choose([worker], { labels: { gpu: "false" }, executor: "docker" }), undefined);
  // No executor named is loopback, which a docker-only worker does not offer.
  assertEquals(choose([onlyDocker], {}), undefined);
  assertEquals(choose([onlyDocker, worker], { executor: "loopback" })?.id, "w-1");
});

Deno.test("placement: the queue reason names the executor when that is what is missing", () => {
  assertEquals(
    queueReason([worker], { labels: { gpu: "false" }, executor: "docker" }),
    'no connected worker that has labels {gpu: "false"} offers the docker executor ' +
      "(it offers loopback); 1 worker connected",
  );
  assertEquals(
    queueReason([worker], { labels: { gpu: "true" }, executor: "docker" }),
    'no connected worker has labels {gpu: "true"} and offers the docker executor; ' +
      "1 worker connected",
  );
  assertEquals(
    queueReason([{ ...worker, executors: ["docker"] }, { ...worker, executors: ["docker"] }], {}),
    "no connected worker offers the loopback executor (they offer docker); " +
      "2 workers connected",
  );
  assertEquals(
    queueReason([{ ...worker, executors: ["docker"], accepting: false }], {
      executor: "docker",
    }),
    "every worker that offers the docker executor is draining; 1 worker connected",
  );
});

Deno.test("placement: an extension step goes only to a worker of protocol 2, and says so while it waits", () => {
  const old = { ...worker, id: "w-old", protocol: 1 };
  assertEquals(choose([old], { minProtocol: 2 }), undefined);
  assertEquals(choose([old, worker], { minProtocol: 2 })?.id, "w-1");
  assertEquals(choose([old], {})?.id, "w-old");
  assertEquals(
    queueReason([old], { minProtocol: 2 }),
    "no connected worker speaks protocol 2 or later, which running an extension method " +
      "needs (upgrade the worker); 1 worker connected",
  );
});

Deno.test("placement: a hello's executor names are checked", () => {
  checkExecutorNames(["loopback", "docker"]);
  for (const names of [["Docker"], ["a b"], Array.from({ length: 17 }, (_, i) => `e${i}`)]) {
    let error: unknown;
    try {
      checkExecutorNames(names);
    } catch (caught) {
      error = caught;
    }
    assertEquals((error as SwampError)?.codeName, "usage", names.join(","));
  }
});
