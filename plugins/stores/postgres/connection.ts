// Reaching the database: the DSN read into connection settings (a DSN never
// carries the password: it would land in shell history, config files and
// logs), the password from wherever the caller keeps it, a pg.Pool, and the
// errors a connection can meet turned into one the user can act on.
import pg from "pg";
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";

export interface PostgresOptions {
  /**
   * `postgres://USER@HOST[:PORT]/DATABASE[?host=/socket/dir&sslmode=…]`,
   * without a password: one is refused (passwordFromDsnError).
   */
  dsn: string;
  /**
   * Where the password comes from when the server asks for one (read at each
   * new connection). Absent: libpq's usual places (PGPASSWORD, PGPASSFILE,
   * ~/.pgpass).
   */
  password?: () => string | Promise<string>;
  /** The spool directory local steps write to (RunStore.spoolDir); none by default. */
  spoolDir?: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /** Apply pending schema migrations when opening (default true). */
  migrate?: boolean;
}

/** The DSN's settings, never a password. */
export interface Target {
  user?: string;
  host?: string;
  port?: number;
  database?: string;
  /** Query parameters other than host, port, user, dbname. */
  params: Record<string, string>;
}

const secretParams = ["password", "passfile", "sslpassword"];

/** The query parameters a DSN may carry; any other is refused (a typo must not drop TLS). */
const knownParams = [
  "host",
  "port",
  "user",
  "dbname",
  "sslmode",
  "sslrootcert",
  "connect_timeout",
  "application_name",
];

const sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

function badDsn(message: string, hint: string): SwampError {
  return new SwampError(ErrorCode.USAGE, message, { hint });
}

/** decodeURIComponent, with a malformed escape a usage error (that does not repeat the DSN). */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw badDsn("the store DSN has a malformed %-escape", "write each % in it as %25");
  }
}

/** The refusal of a DSN that carries a secret; the secret is in neither the message nor the hint. */
export function passwordFromDsnError(where = "the DSN"): SwampError {
  return new SwampError(
    ErrorCode.USAGE,
    `${where} contains a password; swamp refuses passwords in DSNs (they end up in shell history, config files and logs)`,
    {
      hint:
        "remove the password from the DSN and give it with `passwordFile: PATH` in .swamp.yaml, `password: vault:VAULT/KEY`, or libpq's PGPASSFILE / ~/.pgpass",
    },
  );
}

/** Reads a DSN into its settings; refuses one with a password, and one that is not a postgres URL. */
export function parseDsn(dsn: string): Target {
  const match = /^(postgres(?:ql)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(dsn.trim());
  if (!match) {
    throw badDsn(
      "the store DSN is not a postgres:// URL",
      "write it as postgres://USER@HOST:PORT/DATABASE (or postgres://USER@/DATABASE?host=/socket/dir)",
    );
  }
  const [, , authority, path, query] = match;
  const at = authority.lastIndexOf("@");
  const userInfo = at >= 0 ? authority.slice(0, at) : "";
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (userInfo.includes(":")) throw passwordFromDsnError();
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query?.slice(1) ?? "")) {
    if (secretParams.includes(key)) throw passwordFromDsnError();
    if (!knownParams.includes(key)) {
      throw badDsn(
        `the store DSN has the parameter \`${key}\`, which swamp does not use`,
        `the parameters it takes: ${knownParams.join(", ")}`,
      );
    }
    params[key] = value;
  }
  if (params.sslmode !== undefined && !sslModes.includes(params.sslmode)) {
    throw badDsn(
      `the store DSN's sslmode \`${params.sslmode}\` is not one libpq knows`,
      `use one of ${sslModes.join(", ")}`,
    );
  }
  const target: Target = { params: {} };
  if (userInfo) target.user = decoded(userInfo);
  const portMatch = /^(.*?)(?::(\d+))?$/.exec(hostPort)!;
  const host = decoded(portMatch[1].replace(/^\[(.*)\]$/, "$1"));
  if (host) target.host = host;
  if (portMatch[2]) target.port = Number(portMatch[2]);
  const database = decoded((path ?? "").slice(1));
  if (database) target.database = database;
  for (const [key, value] of Object.entries(params)) {
    if (key === "host") target.host = value;
    else if (key === "port") target.port = Number(value);
    else if (key === "user") target.user = value;
    else if (key === "dbname") target.database = value;
    else target.params[key] = value;
  }
  return target;
}

/**
 * What a connection tries, for messages: host or socket, database, user, with
 * the driver's defaults where the DSN says nothing (PGHOST, PGPORT, PGUSER,
 * PGDATABASE, then localhost:5432, the OS user, a database named as the user);
 * never a password.
 */
export function describeTarget(target: Target): string {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const port = target.port ?? Number(env("PGPORT") ?? 5432);
  const host = target.host ?? env("PGHOST") ?? "localhost";
  const place = host.startsWith("/")
    ? `the unix socket ${host}/.s.PGSQL.${port}`
    : `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const user = target.user ?? env("PGUSER") ?? env("USER") ?? "(the OS user)";
  const database = target.database ?? env("PGDATABASE") ?? user;
  return `${place}, database ${database}, user ${user}`;
}

/** A pool on the target; the password (when given) is read at each new connection. */
export function openPool(target: Target, options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool(poolConfig(target, options));
  // An idle connection that the server closes must not end the process: the next query reconnects.
  pool.on("error", () => {});
  return pool;
}

/** How a pool (or the one listening client, listen.ts) connects to the target. */
export function poolConfig(target: Target, options: PostgresOptions): pg.PoolConfig {
  const ssl = sslOf(target.params);
  const config: pg.PoolConfig = {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    max: options.maxConnections ?? 4,
    application_name: target.params.application_name ?? "swamp",
    connectionTimeoutMillis: Number(target.params.connect_timeout ?? 10) * 1000,
    // Idle connections close: a process that never closes the store still exits within 10 s.
    idleTimeoutMillis: 10_000,
  };
  if (ssl !== undefined) config.ssl = ssl;
  if (options.password) config.password = options.password;
  return config;
}

function sslOf(params: Record<string, string>): pg.PoolConfig["ssl"] {
  switch (params.sslmode) {
    case undefined:
    case "disable":
    case "allow":
    case "prefer":
      return undefined;
    case "require":
      return { rejectUnauthorized: false };
    default: {
      const ca = params.sslrootcert ? readRootCert(params.sslrootcert) : undefined;
      return ca ? { ca } : true;
    }
  }
}

function readRootCert(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new SwampError(
      ErrorCode.USAGE,
      `the store DSN's sslrootcert ${path} cannot be read: ${(error as Error).name}`,
      { hint: "name the PEM file of the CA that signed the server's certificate" },
    );
  }
}

/** The driver's words when the server asks for a password and it was given none. */
const noPassword = /client password must be a string/i;

/** SQLSTATE classes and socket errors that mean the database could not be reached at all. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") {
    return error instanceof Error &&
      (/timeout exceeded when trying to connect|Connection terminated/i.test(error.message) ||
        noPassword.test(error.message));
  }
  return [
    "ECONNREFUSED",
    "ENOENT",
    "ECONNRESET",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EACCES",
    "EPIPE",
  ].includes(code) ||
    /^(08|28|3D|57P)/.test(code);
}

/** The error as the user should see it: a store_unreachable naming the target for connection failures. */
export function storeError(error: unknown, target: Target): unknown {
  if (error instanceof SwampError || !isUnreachable(error)) return error;
  const code = (error as { code?: string }).code ?? "";
  if (error instanceof Error && noPassword.test(error.message)) {
    return new SwampError(
      ErrorCode.STORE_UNREACHABLE,
      `cannot reach the PostgreSQL store at ${
        describeTarget(target)
      }: the server asks for a password and none was given`,
      {
        hint:
          "name a file holding it with `passwordFile:` in .swamp.yaml (repo init --password-file), use `password: vault:VAULT/KEY`, or PGPASSFILE / ~/.pgpass",
      },
    );
  }
  const what = code === "3D000"
    ? "the database does not exist"
    : code.startsWith("28")
    ? "the server refused the role (authentication failed or not allowed)"
    : code.startsWith("57P")
    ? "the server is shutting down or restarting"
    : "no PostgreSQL server answered";
  const hint = code === "3D000"
    ? "create it (`createdb`), or name an existing database in the store DSN"
    : code.startsWith("28")
    ? "check the role in the DSN and its password (passwordFile, the vault, or PGPASSFILE), and the server's pg_hba.conf"
    : "start the server, or fix the host, port or socket directory in the store DSN (.swamp.yaml `dsn:` or SWAMP_STORE_DSN)";
  return new SwampError(
    ErrorCode.STORE_UNREACHABLE,
    `cannot reach the PostgreSQL store at ${describeTarget(target)}: ${what}`,
    { hint, cause: redactedCause(error) },
  );
}

/** The driver's message, minus anything that could be a secret (it never holds the password; be sure). */
function redactedCause(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(message.replace(/(postgres(?:ql)?:\/\/[^:@/]*:)[^@]*@/g, "$1***@"));
}
