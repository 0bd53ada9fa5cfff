// `swamp store migrate [--dry-run]`: the PostgreSQL store's pending schema
// steps, listed or applied; other stores have none.
import { readRepoConfig } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const root = await ctx.locator.root();
  const config = await readRepoConfig(root);
  const dryRun = ctx.flags["dry-run"] === true;
  if (config.store !== "postgres") {
    ctx.out.document({ store: config.store, pending: [], applied: false });
    ctx.out.line(`the ${config.store} store has no schema migrations: nothing to migrate`);
    return 0;
  }
  const { postgresOptions } = await import("../postgres_store.ts");
  const { migratePostgres } = await import("../../plugins/stores/postgres/mod.ts");
  const plan = await migratePostgres(await postgresOptions(root, config), dryRun);
  const pending = plan.pending.map(({ version, name }) => ({ version, name }));
  ctx.out.document({
    store: "postgres",
    target: plan.target,
    currentVersion: plan.current,
    knownVersion: plan.known,
    pending,
    applied: !dryRun && pending.length > 0,
  });
  if (pending.length === 0) {
    ctx.out.line(
      `the store at ${plan.target} is at schema version ${plan.current}: nothing to migrate`,
    );
    return 0;
  }
  const verb = dryRun ? "would apply" : "applied";
  ctx.out.line(
    `${verb} ${pending.length} step(s) to the store at ${plan.target}, version ${plan.current} -> ${plan.known}:`,
  );
  for (const step of plan.pending) {
    ctx.out.line(`  ${step.version}  ${step.name}`);
    if (ctx.flags.verbose === true) ctx.out.line(step.sql.trim().replace(/^/gm, "      "));
  }
  return 0;
}
