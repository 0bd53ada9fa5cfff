import { LocalVault } from "../../plugins/vaults/local/mod.ts";
import type { CommandContext } from "../context.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const vault = new LocalVault(await ctx.locator.root());
  const name = ctx.args[0];
  if (name !== undefined) {
    const keys = await vault.keys(name);
    ctx.out.document({ vault: name, keys });
    if (keys.length === 0) {
      ctx.out.info(`vault ${name} is empty; add to it with: swamp vault put ${name} KEY`);
    }
    ctx.out.table(["KEY"], keys.map((k) => [k]));
    return 0;
  }
  const names = await vault.list();
  const keyFile = await vault.keyFile();
  ctx.out.document({ vaults: names.map((n) => ({ name: n })), ...(keyFile ? { keyFile } : {}) });
  if (names.length === 0) {
    ctx.out.info("no vaults; create one with: swamp vault create NAME");
    return 0;
  }
  ctx.out.table(["NAME"], names.map((n) => [n]));
  if (keyFile) ctx.out.info(`key file: ${keyFile}`);
  return 0;
}
