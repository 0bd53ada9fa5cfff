import { assertEquals } from "../../../test/helpers/assert.ts";
import { SwampError } from "../../errors/mod.ts";
import { negotiateProtocol } from "./protocol.ts";
import { queueReason } from "./placement.ts";

Deno.test("protocol: the highest common version; no overlap names both ranges", () => {
  assertEquals(negotiateProtocol({ min: 1, max: 3 }, { min: 2, max: 5 }), 3);
  let error: SwampError | undefined;
  try {
    negotiateProtocol({ min: 7, max: 9 }, { min: 1, max: 1 });
  } catch (caught) {
    error = caught as SwampError;
  }
  assertEquals(error?.codeName, "protocol_mismatch");
  assertEquals(
    error?.message,
    "the worker speaks protocol 7..9, the orchestrator speaks 1: no version in common",
  );
});

Deno.test("placement: the queue reason says what is missing and how many are connected", () => {
  const worker = {
    id: "w-1",
    name: "a",
    labels: { gpu: "false" },
    accepting: true,
    running: 0,
    concurrency: 1,
  };
  assertEquals(
    queueReason([worker, { ...worker, id: "w-2" }], { labels: { gpu: "true" } }),
    'no connected worker has labels {gpu: "true"}; 2 workers connected',
  );
  assertEquals(
    queueReason([{ ...worker, running: 1 }], {}),
    "every worker that can take a step is busy (1 at their concurrency); 1 worker connected",
  );
});
