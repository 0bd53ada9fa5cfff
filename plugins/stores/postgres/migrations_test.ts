// Schema migrations on a real cluster: a fresh database is migrated once even
// when several stores open it at the same moment, a dry run changes nothing,
// and a database migrated by a newer swamp is refused untouched.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import { assert, assertEquals } from "../../../test/helpers/assert.ts";
import { testNeeding } from "../../../test/helpers/capabilities.ts";
import { sharedPostgres } from "../../../test/helpers/postgres.ts";
import { knownVersion, migratePostgres, openPostgresStore } from "./mod.ts";

/** The SwampError `fn` fails with (an assertion failure when it fails otherwise or not at all). */
async function failure(fn: () => unknown): Promise<SwampError> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof SwampError, String(error));
    return error;
  }
  throw new Error("expected a SwampError, but nothing was thrown");
}

const cluster = sharedPostgres();
const dbName = (dsn: string) => /@\/([^?]+)/.exec(dsn)![1];

await testNeeding(
  "postgres",
  "postgres: a dry run lists every step and changes nothing",
  async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    const plan = await migratePostgres({ dsn }, true);
    assertEquals([plan.current, plan.known], [0, knownVersion]);
    assertEquals(plan.pending.map((m) => m.version), [1, 2, 3]);
    assert(plan.target.includes(`database ${dbName(dsn)}`), plan.target);
    assertEquals(
      await c.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", dbName(dsn)),
      "0\n",
    );
    const applied = await migratePostgres({ dsn }, false);
    assertEquals(applied.pending.map((m) => m.version), [1, 2, 3]);
    assertEquals((await migratePostgres({ dsn }, true)).pending, []);
    assertEquals((await migratePostgres({ dsn }, false)).pending, []);
  },
);

await testNeeding(
  "postgres",
  "postgres: stores opening a fresh database at once migrate it once",
  async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(dsn)));
    try {
      assertEquals(
        await c.psql("SELECT version FROM swamp_schema", dbName(dsn)),
        `${knownVersion}\n`,
      );
      assertEquals(await c.psql("SELECT count(*) FROM swamp_schema", dbName(dsn)), "1\n");
      assertEquals(await stores[0].listLocks(), []);
    } finally {
      for (const store of stores) await store.close();
    }
  },
);

await testNeeding(
  "postgres",
  "postgres: a schema newer than this swamp is refused, untouched",
  async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    await (await openPostgresStore(dsn)).close();
    const newer = knownVersion + 1;
    await c.psql(`UPDATE swamp_schema SET version = ${newer}`, dbName(dsn));
    for (const open of [() => openPostgresStore(dsn), () => migratePostgres({ dsn }, true)]) {
      const error = await failure(open);
      assertEquals(error.code, ErrorCode.STORE_SCHEMA_NEWER);
      assertEquals(
        error.message,
        `the store's schema is version ${newer}; this swamp knows up to ${knownVersion}: upgrade swamp`,
      );
    }
    assertEquals(await c.psql("SELECT version FROM swamp_schema", dbName(dsn)), `${newer}\n`);
  },
);
