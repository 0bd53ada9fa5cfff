import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { leaseId, nextLease, parseLeaseId } from "./leases.ts";

const request = {
  runId: "0f5c",
  stepId: "deploy/push[3]#x",
  attempt: 1,
  workerId: "w1",
  now: new Date(0),
  expireTime: new Date(1000),
};

Deno.test("leases: two acquires of one epoch (a store that lost the first) never share an id", () => {
  const ids = new Set(Array.from({ length: 100 }, () => nextLease(request, 4n).id));
  assertEquals(ids.size, 100);
  for (const id of ids) {
    const parts = parseLeaseId(id);
    assertEquals([parts?.runId, parts?.stepId, parts?.epoch], ["0f5c", "deploy/push[3]#x", 5n]);
    assert(parts && leaseId(parts.runId, parts.stepId, parts.epoch, parts.nonce) === id, id);
  }
});

Deno.test("leases: ids from before nonces still parse, and malformed ones do not", () => {
  assertEquals(parseLeaseId("r1/j/s#3"), { runId: "r1", stepId: "j/s", epoch: 3n, nonce: "" });
  assertEquals(leaseId("r1", "j/s", 3n, ""), "r1/j/s#3");
  for (
    const bad of ["r1/j/s", "r1/j/s#0", "r1/j/s#3.xyz", "r1/j/s#3.", "j#3", "r1/j/s#3.0badc0de0"]
  ) {
    assertEquals(parseLeaseId(bad), undefined, bad);
  }
});
