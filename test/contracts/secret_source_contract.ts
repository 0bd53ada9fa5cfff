// The SecretSource contract (runtime/ports/vault.ts): what `vault.get` relies
// on from any vault. A fixture gives a source and a way to put secrets in it.
import { ErrorCode, type SecretSource, SwampError } from "../../runtime/mod.ts";
import { assertEquals, assertRejects } from "../helpers/mod.ts";

export interface SecretSourceFixture extends AsyncDisposable {
  source: SecretSource;
  /** Makes the vault (if needed) and sets these secrets in it. */
  seed(vault: string, secrets: Record<string, string>): Promise<void>;
}

export function secretSourceContract(
  name: string,
  fixture: () => Promise<SecretSourceFixture>,
): void {
  const coded = (code: ErrorCode, value: string) => (error: unknown) =>
    error instanceof SwampError && error.code === code && !error.message.includes(value) &&
    !error.hint.includes(value);

  Deno.test(`[${name}] SecretSource gives back each value as it was set`, async () => {
    await using f = await fixture();
    const values = {
      plain: "s3cret-value",
      spaced: "  with spaces and ünïcødé  ",
      multi: "line one\nline two\n",
    };
    await f.seed("prod", values);
    for (const [key, value] of Object.entries(values)) {
      assertEquals(await f.source.getSecret("prod", key), value);
    }
  });

  Deno.test(`[${name}] SecretSource: a missing vault or key is a clear code, never the value`, async () => {
    await using f = await fixture();
    await f.seed("prod", { present: "v4lue-in-vault" });
    await assertRejects(
      () => f.source.getSecret("prod", "absent"),
      coded(ErrorCode.SECRET_NOT_FOUND, "v4lue-in-vault"),
    );
    await assertRejects(
      () => f.source.getSecret("staging", "present"),
      coded(ErrorCode.VAULT_NOT_FOUND, "v4lue-in-vault"),
    );
  });
}
