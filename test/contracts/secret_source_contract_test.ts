// The SecretSource contract on the local vault, with real files and keys.
import { LocalVault } from "../../plugins/vaults/local/mod.ts";
import { secretSourceContract } from "./secret_source_contract.ts";

secretSourceContract("local vault", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-secret-source-" });
  const env: Record<string, string> = { XDG_STATE_HOME: `${dir}/state` };
  const vault = new LocalVault(`${dir}/repo`, { env: (n) => env[n] });
  return {
    source: vault,
    async seed(name, secrets) {
      if (!(await vault.list()).includes(name)) await vault.create(name);
      for (const [key, value] of Object.entries(secrets)) await vault.put(name, key, value);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
});
