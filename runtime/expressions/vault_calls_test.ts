import { assertEquals, assertThrows } from "../../test/helpers/mod.ts";
import { boundRead, maskedRead, rewriteVaultCalls, vaultCalls } from "./vault_calls.ts";

Deno.test("vault.get calls are found outside string literals", () => {
  assertEquals(vaultCalls(`"a" + vault.get("prod", 'db') + 'vault.get("x","y")'`), [
    { vault: "prod", key: "db" },
  ]);
  assertEquals(vaultCalls(`vault . get ( "a" , "b" ) + vault.get("c","d")`), [
    { vault: "a", key: "b" },
    { vault: "c", key: "d" },
  ]);
  assertEquals(vaultCalls(`myvault.get("a","b") + inputs.vault`), []);
});

Deno.test("vault.get calls are rewritten to a bound read or to ***", () => {
  assertEquals(
    rewriteVaultCalls(`"pw=" + vault.get("prod", "db")`, boundRead),
    `"pw=" + __swamp_vault["prod"]["db"]`,
  );
  assertEquals(rewriteVaultCalls(`vault.get("prod", "db")`, maskedRead), `"***"`);
  assertEquals(rewriteVaultCalls(`inputs.x`, maskedRead), `inputs.x`);
});

Deno.test("vault.get with anything but two string literals is expression_invalid", () => {
  for (const bad of [`vault.get(inputs.v, "k")`, `vault.get("v")`, `vault.get("v", "k", "x")`]) {
    assertThrows(() => vaultCalls(bad), "two string literals");
  }
});
