import { LocalVault } from "../../plugins/vaults/local/mod.ts";
import type { CommandContext } from "../context.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const vault = new LocalVault(await ctx.locator.root());
  const name = ctx.args[0];
  const made = await vault.create(name);
  ctx.out.document({ vault: name, keyFile: made.keyFile, keyCreated: made.keyCreated });
  ctx.out.line(`created vault ${name} (vaults/${name}.vault)`);
  if (made.keyCreated) {
    ctx.out.info(
      `created the vault key file ${made.keyFile} (mode 0600): keep a copy somewhere safe, never in the repository`,
    );
  }
  return 0;
}
