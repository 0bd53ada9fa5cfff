// The PostgreSQL store as a repository configures it: the DSN from
// SWAMP_STORE_DSN or .swamp.yaml `dsn:` (never with a password), the password
// from `passwordFile:` (a file, read when a connection needs it) or
// `password: vault:VAULT/KEY` (the repository's local vault), else libpq's
// own places (PGPASSWORD, PGPASSFILE, ~/.pgpass).
import { ErrorCode, type RepoConfig, type RunStore, SwampError } from "../runtime/mod.ts";
import type { PostgresOptions } from "../plugins/stores/postgres/mod.ts";

/** The DSN a repository's postgres store uses, and where it came from (for messages). */
export function storeDsn(config: RepoConfig): { dsn: string; where: string } {
  const fromEnv = Deno.env.get("SWAMP_STORE_DSN");
  if (fromEnv) return { dsn: fromEnv, where: "SWAMP_STORE_DSN" };
  if (config.dsn) return { dsn: config.dsn, where: ".swamp.yaml `dsn:`" };
  throw new SwampError(ErrorCode.USAGE, "the repository uses the postgres store but names no DSN", {
    hint: "add `dsn: postgres://USER@HOST/DATABASE` to .swamp.yaml, or set SWAMP_STORE_DSN",
  });
}

/** Where the password comes from, as a function pg calls for each new connection. */
export function passwordSource(
  root: string,
  config: Pick<RepoConfig, "passwordFile" | "password">,
): (() => Promise<string>) | undefined {
  if (config.passwordFile !== undefined) {
    const file = config.passwordFile.startsWith("/")
      ? config.passwordFile
      : `${root}/${config.passwordFile}`;
    return async () => {
      try {
        return (await Deno.readTextFile(file)).replace(/\r?\n$/, "");
      } catch (error) {
        throw new SwampError(
          ErrorCode.IO,
          `cannot read the store's password file ${file}: ${(error as Error).name}`,
          { hint: "check `passwordFile:` in .swamp.yaml and the file's permissions" },
        );
      }
    };
  }
  if (config.password === undefined) return undefined;
  const match = /^vault:([^/]+)\/(.+)$/.exec(config.password);
  if (!match) {
    throw new SwampError(
      ErrorCode.USAGE,
      "`password:` in .swamp.yaml must name a vault secret as vault:VAULT/KEY",
      {
        hint:
          "never write the password itself in .swamp.yaml: put it in a file named by `passwordFile:`, or in the vault (`swamp vault put VAULT KEY`)",
      },
    );
  }
  let cached: Promise<string> | undefined;
  return () =>
    cached ??= import("../plugins/vaults/local/mod.ts").then(({ LocalVault }) =>
      new LocalVault(root).getSecret(match[1], match[2])
    );
}

/** The store's options for a repository at `root`; checks the DSN carries no password. */
export async function postgresOptions(
  root: string,
  config: RepoConfig,
  dsn: { dsn: string; where: string } = storeDsn(config),
): Promise<PostgresOptions> {
  const { parseDsn, passwordFromDsnError } = await import("../plugins/stores/postgres/mod.ts");
  try {
    parseDsn(dsn.dsn);
  } catch (error) {
    // The same refusal, naming where the DSN came from; the DSN itself is never repeated.
    if (error instanceof SwampError && /password/.test(error.message)) {
      throw passwordFromDsnError(dsn.where);
    }
    throw error;
  }
  return {
    dsn: dsn.dsn,
    password: passwordSource(root, config),
    spoolDir: `${root}/.swamp/spool`,
  };
}

export async function openPostgresRepoStore(root: string, config: RepoConfig): Promise<RunStore> {
  const { openPostgresStore } = await import("../plugins/stores/postgres/mod.ts");
  return await openPostgresStore(await postgresOptions(root, config));
}
