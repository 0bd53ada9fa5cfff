import { InitRepoResponseSchema, StoreKind } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import { absolute, type CommandContext } from "../context.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const store = ctx.flags.store === "sqlite"
    ? StoreKind.SQLITE
    : ctx.flags.store === "file"
    ? StoreKind.FILE
    : StoreKind.UNSPECIFIED;
  const path = absolute(ctx.args[0] ?? (typeof ctx.flags.repo === "string" ? ctx.flags.repo : "."));
  const result = await ctx.repo.initRepo({ path, store });
  ctx.out.document(cliJson(InitRepoResponseSchema, result));
  const storeName = result.store === StoreKind.SQLITE ? "sqlite" : "file";
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
