import { InitRepoResponseSchema, StoreKind } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import { ErrorCode, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { absolute } from "../absolute_path.ts";
import { cliJson } from "../json_shape.ts";

const kinds: Record<string, StoreKind> = {
  file: StoreKind.FILE,
  sqlite: StoreKind.SQLITE,
  postgres: StoreKind.POSTGRES,
};
const names: Partial<Record<StoreKind, string>> = {
  [StoreKind.FILE]: "file",
  [StoreKind.SQLITE]: "sqlite",
  [StoreKind.POSTGRES]: "postgres",
};

export async function run(ctx: CommandContext): Promise<number> {
  const flag = typeof ctx.flags.store === "string" ? ctx.flags.store : undefined;
  const store = flag === undefined ? StoreKind.UNSPECIFIED : kinds[flag];
  const path = absolute(ctx.args[0] ?? (typeof ctx.flags.repo === "string" ? ctx.flags.repo : "."));
  if (
    flag !== "postgres" && (ctx.flags.dsn !== undefined || ctx.flags["password-file"] !== undefined)
  ) {
    throw new SwampError(ErrorCode.USAGE, "--dsn and --password-file go with --store postgres", {
      hint: "add --store postgres, or leave them out",
    });
  }
  const postgres = flag === "postgres" ? await checkPostgres(ctx, path) : undefined;
  const result = await ctx.repo.initRepo({ path, store });
  if (postgres && result.created.includes(".swamp.yaml")) {
    const { configureRepoStore } = await import("../../runtime/mod.ts");
    await configureRepoStore(path, postgres);
  }
  ctx.out.document(cliJson(InitRepoResponseSchema, result));
  const storeName = names[result.store] ?? "file";
  if (result.alreadyInitialized) {
    ctx.out.line(
      `${result.path} is already a swamp repository (store: ${storeName}); nothing changed`,
    );
  } else {
    ctx.out.line(`initialized swamp repository in ${result.path} (store: ${storeName})`);
    for (const path of result.created) ctx.out.info(`  created ${path}`);
    ctx.out.info("next: swamp workflow create <name>");
  }
  return 0;
}

/**
 * Before anything is created: the DSN carries no password, the password file
 * is there, and the database answers (its schema is applied). Returns the
 * settings to record in .swamp.yaml.
 */
async function checkPostgres(
  ctx: CommandContext,
  root: string,
): Promise<{ dsn?: string; passwordFile?: string } | undefined> {
  // An existing repository is left as it is (initRepo says so, or refuses another store):
  // its database is not touched, nor one the flags name.
  const { readRepoConfig } = await import("../../runtime/mod.ts");
  if (await readRepoConfig(root).then(() => true, () => false)) return undefined;
  const flagDsn = typeof ctx.flags.dsn === "string" ? ctx.flags.dsn : undefined;
  const fileFlag = ctx.flags["password-file"];
  const passwordFile = typeof fileFlag === "string" ? absolute(fileFlag) : undefined;
  const dsn = flagDsn !== undefined
    ? { dsn: flagDsn, where: "the --dsn value" }
    : Deno.env.get("SWAMP_STORE_DSN")
    ? { dsn: Deno.env.get("SWAMP_STORE_DSN")!, where: "SWAMP_STORE_DSN" }
    : undefined;
  if (!dsn) {
    throw new SwampError(ErrorCode.USAGE, "--store postgres needs the database's DSN", {
      hint: "pass --dsn postgres://USER@HOST/DATABASE (no password in it), or set SWAMP_STORE_DSN",
    });
  }
  if (passwordFile !== undefined) {
    try {
      await Deno.stat(passwordFile);
    } catch (error) {
      throw new SwampError(
        ErrorCode.USAGE,
        `the password file ${passwordFile} cannot be read: ${(error as Error).name}`,
        { hint: "write the password into that file first (only you should read it)" },
      );
    }
  }
  const { postgresOptions } = await import("../postgres_store.ts");
  const { openPostgresStore } = await import("../../plugins/stores/postgres/mod.ts");
  const options = await postgresOptions(root, { store: "postgres", passwordFile }, dsn);
  await (await openPostgresStore(options)).close();
  return { dsn: flagDsn, passwordFile };
}
