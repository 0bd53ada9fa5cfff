import { LocalVault } from "../../plugins/vaults/local/mod.ts";
import type { CommandContext } from "../context.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const [name, key] = ctx.args;
  const vault = new LocalVault(await ctx.locator.root());
  if (key !== undefined) {
    await vault.remove(name, key);
    ctx.out.document({ vault: name, key, removed: true });
    ctx.out.line(`removed ${key} from vault ${name}`);
    return 0;
  }
  await vault.removeVault(name);
  ctx.out.document({ vault: name, removed: true });
  ctx.out.line(`removed vault ${name} and every secret in it (vaults/${name}.vault)`);
  return 0;
}
