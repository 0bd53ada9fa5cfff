import { LocalVault } from "../../plugins/vaults/local/mod.ts";
import type { CommandContext } from "../context.ts";
import { minMaskedLength } from "../../runtime/mod.ts";

/** Everything on stdin, less one trailing newline. */
async function readSecret(): Promise<string> {
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}

export async function run(ctx: CommandContext): Promise<number> {
  const [name, key] = ctx.args;
  const vault = new LocalVault(await ctx.locator.root());
  if (Deno.stdin.isTerminal()) ctx.out.info("type the secret, then a newline and Ctrl-D");
  const value = await readSecret();
  const created = await vault.put(name, key, value);
  if (value.length < minMaskedLength) {
    ctx.out.info(
      `warning: values shorter than ${minMaskedLength} characters are not masked in what runs write`,
    );
  }
  ctx.out.document({ vault: name, key, created });
  ctx.out.line(`${created ? "stored" : "replaced"} ${key} in vault ${name}`);
  return 0;
}
