// The lease part of the store contract (runtime/ports/leases.ts): epochs that
// only grow per step, renewals only by the holder of a current lease, and one
// current lease per step when processes race for it.
import { type Lease, leaseId, parseLeaseId } from "../../runtime/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/mod.ts";
import { race, type Spec } from "./store_contract_processes.ts";
import type { StoreTest } from "./store_contract_tokens.ts";
import { runId } from "./store_messages.ts";

const t0 = new Date(1_700_000_000_000);
const later = (ms: number) => new Date(t0.getTime() + ms);

function request(run: string, step: string, workerId: string, attempt = 1) {
  return { runId: run, stepId: step, attempt, workerId, now: t0, expireTime: later(30_000) };
}

export function leaseContract(test: StoreTest): void {
  test("leases: the first lease of a step is epoch 1, active, and reads back whole", async ({ store }) => {
    const run = runId();
    const lease = await store.acquireLease(request(run, "build/compile[2]", "w1"));
    const nonce = parseLeaseId(lease.id)?.nonce ?? "";
    assertMatch(nonce, /^[0-9a-f]{8}$/);
    const expected: Lease = {
      id: leaseId(run, "build/compile[2]", 1n, nonce),
      runId: run,
      stepId: "build/compile[2]",
      attempt: 1,
      epoch: 1n,
      workerId: "w1",
      createTime: t0,
      expireTime: later(30_000),
      hasWritten: false,
      state: "active",
    };
    assertEquals(lease, expected);
    assertEquals(await store.getLease(lease.id), expected);
    assertEquals(parseLeaseId(lease.id), {
      runId: run,
      stepId: "build/compile[2]",
      epoch: 1n,
      nonce,
    });
    assertEquals(await store.listLeases(), [expected]);
  });

  test("leases: a new lease of the step fences the old one out of every call", async ({ store }) => {
    const run = runId();
    const first = await store.acquireLease(request(run, "job/step", "w1"));
    const second = await store.acquireLease(request(run, "job/step", "w2", 2));
    assertEquals([second.epoch, second.attempt, second.workerId], [2n, 2, "w2"]);
    assertEquals(await store.getLease(first.id), undefined);
    assertEquals(await store.renewLeases("w1", [first.id], later(60_000)), []);
    assertEquals(await store.markLeaseWritten(first.id), false);
    assertEquals(await store.releaseLease(first.id), false);
    const now = await store.getLease(second.id);
    assertEquals([now?.state, now?.hasWritten, now?.expireTime], ["active", false, later(30_000)]);
    // A released lease is still its step's newest, and the next lease goes above it.
    assertEquals(await store.releaseLease(second.id), true);
    const third = await store.acquireLease(request(run, "job/step", "w1", 3));
    assertEquals(third.epoch, 3n);
  });

  test("leases: renewals extend only the active leases the worker holds", async ({ store }) => {
    const run = runId();
    const mine = await store.acquireLease(request(run, "a/one", "w1"));
    const released = await store.acquireLease(request(run, "a/two", "w1"));
    const theirs = await store.acquireLease(request(run, "a/three", "w2"));
    await store.releaseLease(released.id);
    const unknown = leaseId(runId(), "a/one", 1n, "0badc0de");
    // The step's epoch with another nonce: what a worker holds when the store lost its lease.
    const sameEpoch = leaseId(run, "a/one", mine.epoch, "0badc0de");
    const renewed = await store.renewLeases(
      "w1",
      [mine.id, released.id, theirs.id, unknown, sameEpoch, "not a lease id"],
      later(90_000),
    );
    assertEquals(renewed, [mine.id]);
    assertEquals((await store.getLease(mine.id))?.expireTime, later(90_000));
    assertEquals((await store.getLease(theirs.id))?.expireTime, later(30_000));
    assertEquals((await store.getLease(released.id))?.expireTime, later(30_000));
  });

  test("leases: written and released are recorded once, on active leases only", async ({ store }) => {
    const lease = await store.acquireLease(request(runId(), "j/s", "w1"));
    assertEquals(await store.markLeaseWritten(lease.id), true);
    assertEquals(await store.markLeaseWritten(lease.id), true);
    assertEquals((await store.getLease(lease.id))?.hasWritten, true);
    assertEquals(await store.releaseLease(lease.id), true);
    assertEquals(await store.releaseLease(lease.id), false);
    assertEquals(await store.markLeaseWritten(lease.id), false);
    const read = await store.getLease(lease.id);
    assertEquals([read?.state, read?.hasWritten], ["released", true]);
  });

  test("leases: listLeases filters by run, worker and activity, ordered by run then step", async ({ store }) => {
    const [r1, r2] = [runId(), runId()].sort();
    const a = await store.acquireLease(request(r2, "j/b", "w1"));
    const b = await store.acquireLease(request(r1, "j/z", "w2"));
    const c = await store.acquireLease(request(r1, "j/a", "w1"));
    await store.releaseLease(c.id);
    const ids = (leases: Lease[]) => leases.map((lease) => lease.id);
    assertEquals(ids(await store.listLeases()), [c.id, b.id, a.id]);
    assertEquals(ids(await store.listLeases({ runId: r1 })), [c.id, b.id]);
    assertEquals(ids(await store.listLeases({ workerId: "w1" })), [c.id, a.id]);
    assertEquals(ids(await store.listLeases({ activeOnly: true })), [b.id, a.id]);
    assertEquals(ids(await store.listLeases({ runId: r1, workerId: "w1", activeOnly: true })), []);
  });

  test(
    "leases: processes racing for one step each get their own epoch; the last stays",
    async (fixture) => {
      const run = runId();
      const specs: Spec[] = ["p1", "p2", "p3", "p4"].map((writer) => ({
        writer,
        mode: "lease",
        runId: run,
        stepId: "race/step",
        count: 10,
      }));
      const results = await race<{ epochs: string[] }>(fixture, specs);
      const epochs = results.flatMap((result) => result.epochs.map(BigInt));
      // Forty acquisitions, forty distinct epochs 1..40: none handed out twice.
      assertEquals(
        [...epochs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
        Array.from({ length: 40 }, (_, i) => BigInt(i + 1)),
      );
      const leases = await fixture.store.listLeases({ runId: run });
      assertEquals(leases.length, 1);
      assertEquals(leases[0].epoch, 40n);
      for (const result of results) {
        const own = result.epochs.map(BigInt);
        // Each writer's epochs grow: an acquisition never goes below one it saw.
        assert(own.every((epoch, i) => i === 0 || epoch > own[i - 1]), result.epochs.join(" "));
      }
    },
    { processes: true },
  );
}
