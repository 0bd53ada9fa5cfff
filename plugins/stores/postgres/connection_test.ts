// DSNs and connection failures: a password in a DSN is refused without being
// repeated; an unreachable server or a missing database is store_unreachable,
// naming the socket or host, the database and the user.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import { assert, assertEquals, assertThrows } from "../../../test/helpers/assert.ts";
import { testNeeding } from "../../../test/helpers/capabilities.ts";
import { sharedPostgres, socketDsn } from "../../../test/helpers/postgres.ts";
import { describeTarget, openPostgresStore, parseDsn } from "./mod.ts";

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

Deno.test("postgres: DSNs read into host, port, database and user", () => {
  assertEquals(parseDsn("postgres://ops@db.example:6543/swamp?sslmode=require"), {
    user: "ops",
    host: "db.example",
    port: 6543,
    database: "swamp",
    params: { sslmode: "require" },
  });
  assertEquals(parseDsn("postgresql://ops@/swamp?host=%2Frun%2Fpg"), {
    user: "ops",
    host: "/run/pg",
    database: "swamp",
    params: {},
  });
  assertEquals(
    describeTarget(parseDsn("postgres://ops@/swamp?host=/run/pg")),
    "the unix socket /run/pg/.s.PGSQL.5432, database swamp, user ops",
  );
  assertEquals(
    describeTarget(parseDsn("postgres://ops@[::1]/swamp")),
    "[::1]:5432, database swamp, user ops",
  );
});

Deno.test("postgres: a DSN with a password is refused, and the password is not repeated", async () => {
  for (
    const dsn of [
      "postgres://ops:hunter2-secret@db/swamp",
      "postgres://ops@db/swamp?password=hunter2-secret",
      "postgresql://ops:hunter2-secret@/swamp?host=/run/pg",
    ]
  ) {
    const error = await failure(() => parseDsn(dsn));
    assertEquals(error.code, ErrorCode.USAGE);
    assert(!`${error.message} ${error.hint}`.includes("hunter2"), error.message);
    assert(error.hint.includes("passwordFile"), error.hint);
  }
  assertThrows(() => parseDsn("mysql://ops@db/swamp"), "not a postgres:// URL");
});

Deno.test("postgres: a DSN parameter swamp does not use, or an unknown sslmode, is refused", () => {
  // A typo must not silently turn TLS off.
  assertThrows(() => parseDsn("postgres://ops@db/swamp?sslmod=require"), "`sslmod`");
  assertThrows(() => parseDsn("postgres://ops@db/swamp?sslmode=required"), "`required`");
  assertThrows(() => parseDsn("postgres://ops@db/sw%zzamp"), "malformed %-escape");
});

Deno.test("postgres: no server at the socket is store_unreachable naming what was tried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-pg-none-" });
  try {
    const error = await failure(() =>
      openPostgresStore({ dsn: socketDsn(dir, "swamp", "ops"), password: () => "pw-xyzzy" })
    );
    assertEquals(error.code, ErrorCode.STORE_UNREACHABLE);
    assertEquals(
      error.message,
      `cannot reach the PostgreSQL store at the unix socket ${dir}/.s.PGSQL.5432, database swamp, user ops: no PostgreSQL server answered`,
    );
    assert(!JSON.stringify([error.message, error.hint, String(error.cause)]).includes("xyzzy"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const cluster = sharedPostgres();

await testNeeding(
  "postgres",
  "postgres: a database that does not exist is store_unreachable",
  async () => {
    const c = await cluster.get();
    const error = await failure(() => openPostgresStore(socketDsn(c.dir, "no_such_db")));
    assertEquals(error.code, ErrorCode.STORE_UNREACHABLE);
    assert(error.message.endsWith("database no_such_db, user swamp: the database does not exist"));
    assert(error.hint.includes("createdb"), error.hint);
  },
);
