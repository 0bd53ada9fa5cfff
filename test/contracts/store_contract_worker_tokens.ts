// The WorkerTokenStore part of the store contract (runtime/ports/worker_tokens.ts):
// enrollment tokens kept by name, created once, revoked once, and bound to
// one machine by a compare-and-set that holds across store instances and
// processes.
import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { WorkerTokenSchema } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { type StoredWorkerToken, WorkerTokenExists } from "../../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/mod.ts";
import { race, type Spec } from "./store_contract_processes.ts";
import type { StoreTest } from "./store_contract_tokens.ts";
import { storedToken, storedWorkerToken, WorkerTokenState } from "./store_messages.ts";
import type { BindOutcome } from "./store_writer.ts";

const existsNamed = (name: string) => (error: unknown) =>
  error instanceof WorkerTokenExists && error.tokenName === name;

const created = 1_700_000_000_000;
/** Within every test token's life (they expire eight hours after `created`). */
const during = new Date(created + 3_600_000);

/** `record` as it reads back after a revoke at `time`. */
function revokedAt(record: StoredWorkerToken, time: Date): StoredWorkerToken {
  const token = clone(WorkerTokenSchema, record.token);
  token.revokeTime = timestampFromDate(time);
  token.state = WorkerTokenState.REVOKED;
  return { token, secretHash: record.secretHash };
}

/** `record` as it reads back after its first binding, to `machineId` at `time`. */
function boundAt(record: StoredWorkerToken, machineId: string, time: Date): StoredWorkerToken {
  const token = clone(WorkerTokenSchema, record.token);
  token.boundMachineId = machineId;
  token.enrollTime = timestampFromDate(time);
  token.state = WorkerTokenState.ENROLLED;
  return { token, secretHash: record.secretHash };
}

export function workerTokenContract(test: StoreTest): void {
  test("worker tokens: create, then get returns the same record, labels and recorded state included", async ({ store }) => {
    assertEquals(await store.listWorkerTokens(), []);
    const gpu = storedWorkerToken({ name: "gpu-box", labels: { gpu: "true", zone: "eu-1" } });
    const plain = storedWorkerToken({ name: "ci-runner", createdBy: "alice" });
    await store.createWorkerToken(gpu);
    await store.createWorkerToken(plain);
    assertEquals(await store.getWorkerToken("gpu-box"), gpu);
    assertEquals(await store.getWorkerToken("ci-runner"), plain);
    assertEquals((await store.getWorkerToken("gpu-box"))?.token.state, WorkerTokenState.UNUSED);
    assertEquals(await store.listWorkerTokens(), [plain, gpu]);
  });

  test("worker tokens: the effective state is not stored", async ({ store }) => {
    const record = storedWorkerToken({ name: "stateful" });
    const sent = { ...record, token: clone(WorkerTokenSchema, record.token) };
    sent.token.effectiveState = WorkerTokenState.EXPIRED;
    await store.createWorkerToken(sent);
    const got = await store.getWorkerToken("stateful");
    assertEquals(got?.token.effectiveState, WorkerTokenState.UNSPECIFIED);
    assertEquals(got, record);
  });

  test("worker tokens: list holds every token, ordered by name", async ({ store }) => {
    const names = ["charlie", "alpha", "bravo-2", "bravo", "a1", "a-1"];
    for (const name of names) await store.createWorkerToken(storedWorkerToken({ name }));
    const listed = await store.listWorkerTokens();
    assertEquals(listed.map((r) => r.token.name), [
      "a-1",
      "a1",
      "alpha",
      "bravo",
      "bravo-2",
      "charlie",
    ]);
  });

  test("worker tokens: a taken name throws WorkerTokenExists and changes nothing; API token names are apart", async ({ store }) => {
    const first = storedWorkerToken({ name: "edge", createdBy: "alice" });
    await store.createWorkerToken(first);
    const second = storedWorkerToken({ name: "edge", createdBy: "mallory", labels: { a: "b" } });
    await assertRejects(() => store.createWorkerToken(second), existsNamed("edge"));
    assertEquals(await store.listWorkerTokens(), [first]);
    // An API token and a worker token may share a name: they are different credentials.
    await store.createApiToken(storedToken({ name: "edge" }));
    assertEquals(await store.getWorkerToken("edge"), first);
    assertEquals((await store.listApiTokens()).map((r) => r.token.name), ["edge"]);
  });

  test("worker tokens: revoke sets the revoke time and state once; the name stays taken", async ({ store }) => {
    const record = storedWorkerToken({ name: "leaky" });
    const bystander = storedWorkerToken({ name: "other" });
    await store.createWorkerToken(record);
    await store.createWorkerToken(bystander);
    const first = new Date(created + 60_000);
    const expected = revokedAt(record, first);
    assertEquals(await store.revokeWorkerToken("leaky", first), {
      record: expected,
      changed: true,
    });
    const later = new Date(created + 120_000);
    assertEquals(await store.revokeWorkerToken("leaky", later), {
      record: expected,
      changed: false,
    });
    assertEquals(await store.getWorkerToken("leaky"), expected);
    assertEquals(await store.getWorkerToken("other"), bystander);
    await assertRejects(
      () => store.createWorkerToken(storedWorkerToken({ name: "leaky" })),
      existsNamed("leaky"),
    );
  });

  test("worker tokens: an unknown name is undefined for get, revoke and bind", async ({ store }) => {
    await store.createWorkerToken(storedWorkerToken({ name: "known" }));
    assertEquals(await store.getWorkerToken("unknown"), undefined);
    assertEquals(await store.revokeWorkerToken("unknown", during), undefined);
    assertEquals(await store.bindWorkerToken("unknown", "machine-a", during), undefined);
    assertEquals((await store.listWorkerTokens()).map((r) => r.token.name), ["known"]);
  });

  test("worker tokens: the first bind binds; the same machine again changes nothing; another machine is refused", async ({ store }) => {
    const record = storedWorkerToken({ name: "gpu" });
    await store.createWorkerToken(record);
    const expected = boundAt(record, "machine-a", during);
    assertEquals(await store.bindWorkerToken("gpu", "machine-a", during), {
      bound: true,
      record: expected,
      changed: true,
    });
    assertEquals(await store.getWorkerToken("gpu"), expected);
    const later = new Date(during.getTime() + 60_000);
    assertEquals(await store.bindWorkerToken("gpu", "machine-a", later), {
      bound: true,
      record: expected,
      changed: false,
    });
    // The refusal names nothing: not the machine the token is bound to.
    assertEquals(await store.bindWorkerToken("gpu", "machine-b", later), {
      bound: false,
      refusal: "bound_to_other_machine",
    });
    assertEquals(await store.getWorkerToken("gpu"), expected);
  });

  test("worker tokens: a revoked or expired token is refused and stays unbound", async ({ store }) => {
    const revoked = storedWorkerToken({ name: "revoked" });
    const expiring = storedWorkerToken({ name: "expiring", expireMs: created + 60_000 });
    await store.createWorkerToken(revoked);
    await store.createWorkerToken(expiring);
    await store.revokeWorkerToken("revoked", during);
    assertEquals(await store.bindWorkerToken("revoked", "machine-a", during), {
      bound: false,
      refusal: "token_revoked",
    });
    assertEquals(await store.getWorkerToken("revoked"), revokedAt(revoked, during));
    // Expiry is judged at the time given, and the expire time itself is already too late.
    const justBefore = new Date(created + 59_999);
    const atExpiry = new Date(created + 60_000);
    assertEquals(await store.bindWorkerToken("expiring", "machine-a", atExpiry), {
      bound: false,
      refusal: "token_expired",
    });
    assertEquals(await store.getWorkerToken("expiring"), expiring);
    assert((await store.bindWorkerToken("expiring", "machine-a", justBefore))?.bound);
    // A bound token is refused once expired, even to its own machine.
    assertEquals(await store.bindWorkerToken("expiring", "machine-a", atExpiry), {
      bound: false,
      refusal: "token_expired",
    });
  });

  test("worker tokens: revoking a bound token keeps its machine and enrollment", async ({ store }) => {
    const record = storedWorkerToken({ name: "bound" });
    await store.createWorkerToken(record);
    await store.bindWorkerToken("bound", "machine-a", during);
    const time = new Date(during.getTime() + 1000);
    const result = await store.revokeWorkerToken("bound", time);
    assertEquals(result, {
      record: revokedAt(boundAt(record, "machine-a", during), time),
      changed: true,
    });
    assertEquals(await store.bindWorkerToken("bound", "machine-a", time), {
      bound: false,
      refusal: "token_revoked",
    });
  });

  test("worker tokens: another store instance sees the same tokens and bindings", async (fixture) => {
    const record = storedWorkerToken({ name: "shared" });
    await fixture.store.createWorkerToken(record);
    const other = await fixture.reopen();
    assertEquals(await other.getWorkerToken("shared"), record);
    await assertRejects(
      () => other.createWorkerToken(storedWorkerToken({ name: "shared" })),
      existsNamed("shared"),
    );
    assert((await other.bindWorkerToken("shared", "machine-a", during))?.bound);
    assertEquals(await fixture.store.bindWorkerToken("shared", "machine-b", during), {
      bound: false,
      refusal: "bound_to_other_machine",
    });
    assertEquals(
      await fixture.store.getWorkerToken("shared"),
      boundAt(record, "machine-a", during),
    );
    assert((await fixture.store.revokeWorkerToken("shared", during))?.changed);
    assertEquals((await other.revokeWorkerToken("shared", during))?.changed, false);
  });

  test(
    "worker tokens: processes binding one token to different machines, exactly one wins",
    async (fixture) => {
      const record = storedWorkerToken({ name: "raced" });
      await fixture.store.createWorkerToken(record);
      const specs: Spec[] = ["m1", "m2", "m3"].map((writer) => ({
        writer,
        mode: "bind",
        tokenName: "raced",
        machineId: `machine-${writer}`,
        timeMs: during.getTime(),
      }));
      const results = await race<BindOutcome>(fixture, specs);
      const winners = specs.filter((_, i) => results[i].bound);
      assertEquals(winners.length, 1, JSON.stringify(results));
      for (const [i, result] of results.entries()) {
        assertEquals(
          result,
          specs[i] === winners[0]
            ? { bound: true, changed: true }
            : { bound: false, refusal: "bound_to_other_machine" },
        );
      }
      assertEquals(
        await fixture.store.getWorkerToken("raced"),
        boundAt(record, winners[0].machineId!, during),
      );
    },
    { processes: true },
  );
}
