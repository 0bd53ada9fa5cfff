// The TokenStore part of the store contract (runtime/ports/tokens.ts): API
// tokens kept by name, created once, revoked once, shared between store
// instances and processes.
import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiTokenSchema } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { type StoredApiToken, TokenExists } from "../../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/mod.ts";
import { race, type Spec } from "./store_contract_processes.ts";
import type { StoreFixture } from "./store_fixture.ts";
import { ApiTokenState, storedToken } from "./store_messages.ts";

/** One contract case; `processes`: it starts other processes on the store (not for the memory store). */
export type StoreTest = (
  what: string,
  body: (fixture: StoreFixture) => Promise<void>,
  options?: { processes: boolean },
) => void;

const existsNamed = (name: string) => (error: unknown) =>
  error instanceof TokenExists && error.tokenName === name;

/** Plain code-unit order, which is what "ordered by name" means for the ASCII names tokens use. */
const byName = (a: StoredApiToken, b: StoredApiToken): number =>
  a.token.name < b.token.name ? -1 : a.token.name > b.token.name ? 1 : 0;

/** `record` as it reads back after a revoke at `time`. */
function revokedAt(record: StoredApiToken, time: Date): StoredApiToken {
  const token = clone(ApiTokenSchema, record.token);
  token.revokeTime = timestampFromDate(time);
  return { token, secretHash: record.secretHash };
}

export function tokenContract(test: StoreTest): void {
  test("tokens: createApiToken, then getApiToken returns the same record", async ({ store }) => {
    assertEquals(await store.listApiTokens(), []);
    const forever = storedToken({ name: "ci", createdBy: "alice" });
    const dated = storedToken({ name: "deploy-bot", expireMs: 1_800_000_000_000 });
    await store.createApiToken(forever);
    await store.createApiToken(dated);
    assertEquals(await store.getApiToken("ci"), forever);
    assertEquals(await store.getApiToken("deploy-bot"), dated);
    assertEquals((await store.getApiToken("ci"))?.token.expireTime, undefined);
  });

  test("tokens: state is not stored", async ({ store }) => {
    const record = storedToken({ name: "stateful" });
    const sent = { ...record, token: clone(ApiTokenSchema, record.token) };
    sent.token.state = ApiTokenState.ACTIVE;
    await store.createApiToken(sent);
    const got = await store.getApiToken("stateful");
    assertEquals(got?.token.state, ApiTokenState.UNSPECIFIED);
    assertEquals(got, record);
    assertEquals(await store.listApiTokens(), [record]);
  });

  test("tokens: listApiTokens holds every token, ordered by name", async ({ store }) => {
    const names = ["charlie", "alpha", "bravo-2", "bravo", "a1", "a-1"];
    const records = names.map((name) => storedToken({ name }));
    for (const record of records) await store.createApiToken(record);
    const listed = await store.listApiTokens();
    assertEquals(listed.map((r) => r.token.name), [
      "a-1",
      "a1",
      "alpha",
      "bravo",
      "bravo-2",
      "charlie",
    ]);
    assertEquals(listed, [...records].sort(byName));
  });

  test("tokens: creating a taken name throws TokenExists and changes nothing", async ({ store }) => {
    const first = storedToken({ name: "ops", createdBy: "alice" });
    await store.createApiToken(first);
    const second = storedToken({ name: "ops", createdBy: "mallory", expireMs: 1_900_000_000_000 });
    await assertRejects(() => store.createApiToken(second), existsNamed("ops"));
    assertEquals(await store.getApiToken("ops"), first);
    assertEquals(await store.listApiTokens(), [first]);
  });

  test("tokens: a revoked token keeps its name", async ({ store }) => {
    const first = storedToken({ name: "old" });
    await store.createApiToken(first);
    const time = new Date(1_750_000_000_123);
    assert((await store.revokeApiToken("old", time))?.changed);
    await assertRejects(
      () => store.createApiToken(storedToken({ name: "old", createdBy: "mallory" })),
      existsNamed("old"),
    );
    assertEquals(await store.getApiToken("old"), revokedAt(first, time));
    assertEquals(await store.listApiTokens(), [revokedAt(first, time)]);
  });

  test("tokens: revokeApiToken sets the revoke time once", async ({ store }) => {
    const record = storedToken({ name: "leaky" });
    const bystander = storedToken({ name: "other" });
    await store.createApiToken(record);
    await store.createApiToken(bystander);
    const first = new Date(1_750_000_000_123);
    const expected = revokedAt(record, first);
    assertEquals(await store.revokeApiToken("leaky", first), { record: expected, changed: true });
    assertEquals(await store.getApiToken("leaky"), expected);
    const later = new Date(1_760_000_000_000);
    assertEquals(await store.revokeApiToken("leaky", later), { record: expected, changed: false });
    assertEquals(await store.getApiToken("leaky"), expected);
    assertEquals(await store.getApiToken("other"), bystander);
  });

  test("tokens: an unknown name is undefined for get and revoke", async ({ store }) => {
    await store.createApiToken(storedToken({ name: "known" }));
    assertEquals(await store.getApiToken("unknown"), undefined);
    assertEquals(await store.revokeApiToken("unknown", new Date()), undefined);
    assertEquals(await store.getApiToken("unknown"), undefined);
    assertEquals((await store.listApiTokens()).map((r) => r.token.name), ["known"]);
  });

  test("tokens: another store instance sees the same tokens", async (fixture) => {
    const record = storedToken({ name: "shared" });
    await fixture.store.createApiToken(record);
    const other = await fixture.reopen();
    assertEquals(await other.getApiToken("shared"), record);
    assertEquals(await other.listApiTokens(), [record]);
    await assertRejects(
      () => other.createApiToken(storedToken({ name: "shared" })),
      existsNamed("shared"),
    );
    const time = new Date(1_750_000_000_000);
    assert((await other.revokeApiToken("shared", time))?.changed);
    assertEquals(await fixture.store.getApiToken("shared"), revokedAt(record, time));
    assertEquals((await fixture.store.revokeApiToken("shared", new Date()))?.changed, false);
  });

  test("tokens: processes racing to create one name, exactly one wins", async (fixture) => {
    const specs: Spec[] = ["p1", "p2", "p3"].map((writer) => ({
      writer,
      mode: "token",
      tokenName: "raced",
    }));
    const results = await race<{ created: boolean }>(fixture, specs);
    const winners = specs.filter((_, i) => results[i].created);
    assertEquals(winners.length, 1);
    const stored = await fixture.store.listApiTokens();
    assertEquals(stored.map((r) => [r.token.name, r.token.createdBy]), [
      ["raced", winners[0].writer],
    ]);
  }, { processes: true });

  test("tokens: a thousand tokens list correctly", async ({ store }) => {
    const count = 1000;
    // Created out of order (7 is coprime with 1000, so every index comes once).
    const records = Array.from(
      { length: count },
      (_, i) => storedToken({ name: `token-${(i * 7) % count}`, createMs: 1_700_000_000_000 + i }),
    );
    for (const record of records) await store.createApiToken(record);
    const listed = await store.listApiTokens();
    assertEquals(listed.length, count);
    assertEquals(listed, [...records].sort(byName));
    assertEquals(
      await store.getApiToken("token-999"),
      records.find((r) => r.token.name === "token-999"),
    );
  });
}
