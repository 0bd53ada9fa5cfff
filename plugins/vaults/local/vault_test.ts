// The local vault with real files, real WebCrypto and real permissions.
import { assert, assertEquals, assertRejects } from "../../../test/helpers/mod.ts";
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import { LocalVault } from "./mod.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "swamp-vault-" });
  const root = `${dir}/repo`;
  await Deno.mkdir(`${root}/.swamp`, { recursive: true });
  const env: Record<string, string> = { XDG_STATE_HOME: `${dir}/state` };
  const vault = new LocalVault(root, { env: (n) => env[n] });
  return {
    dir,
    root,
    env,
    vault,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function hasCode(code: ErrorCode, fragment = "") {
  return (error: unknown) =>
    error instanceof SwampError && error.code === code && error.message.includes(fragment);
}

Deno.test("a vault keeps secrets encrypted and gives them back", async () => {
  await using t = await setup();
  const made = await t.vault.create("prod");
  assert(made.keyCreated);
  assertEquals(made.keyFile.startsWith(`${t.dir}/state/swamp/vault-keys/`), true);
  assertEquals((await Deno.stat(made.keyFile)).mode! & 0o777, 0o600);
  assertEquals((await Deno.stat(`${t.dir}/state/swamp/vault-keys`)).mode! & 0o777, 0o700);
  assertEquals(await t.vault.put("prod", "db", "correct horse battery"), true);
  assertEquals(await t.vault.put("prod", "db", "correct horse battery staple"), false);
  await t.vault.put("prod", "api", "tok-123456");
  assertEquals(await t.vault.getSecret("prod", "db"), "correct horse battery staple");
  assertEquals(await t.vault.keys("prod"), ["api", "db"]);
  assertEquals(await t.vault.list(), ["prod"]);
  const text = await Deno.readTextFile(`${t.root}/vaults/prod.vault`);
  assert(!text.includes("correct horse") && !text.includes("tok-123456") && !text.includes("api"));
  await t.vault.remove("prod", "api");
  assertEquals(await t.vault.keys("prod"), ["db"]);
  await assertRejects(() => t.vault.getSecret("prod", "api"), hasCode(ErrorCode.SECRET_NOT_FOUND));
  await assertRejects(() => t.vault.getSecret("dev", "db"), hasCode(ErrorCode.VAULT_NOT_FOUND));
  await assertRejects(() => t.vault.create("prod"), hasCode(ErrorCode.ALREADY_EXISTS));
  await t.vault.removeVault("prod");
  assertEquals(await t.vault.list(), []);
  const left = [...Deno.readDirSync(`${t.root}/vaults`)].map((e) => e.name);
  assertEquals(left, [".key-id"], "no temporary file is left behind");
});

Deno.test("a wrong key file is refused and changes nothing", async () => {
  await using t = await setup();
  const { keyFile } = await t.vault.create("prod");
  await t.vault.put("prod", "db", "s3cret-value");
  const before = await Deno.readFile(`${t.root}/vaults/prod.vault`);
  const other = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeTextFile(keyFile, btoa(String.fromCharCode(...other)));
  for (
    const act of [
      () => t.vault.getSecret("prod", "db"),
      () => t.vault.put("prod", "db", "new-value"),
      () => t.vault.remove("prod", "db"),
    ]
  ) {
    await assertRejects(act, hasCode(ErrorCode.VAULT_UNREADABLE, "another key"));
  }
  assertEquals(await Deno.readFile(`${t.root}/vaults/prod.vault`), before);
  await Deno.remove(keyFile);
  await assertRejects(
    () => t.vault.getSecret("prod", "db"),
    hasCode(ErrorCode.VAULT_UNREADABLE, "no vault key file"),
  );
});

Deno.test("a tampered or renamed vault file fails authentication", async () => {
  await using t = await setup();
  await t.vault.create("prod");
  await t.vault.put("prod", "db", "s3cret-value");
  const file = `${t.root}/vaults/prod.vault`;
  const original = await Deno.readTextFile(file);
  const doc = JSON.parse(original);
  const bytes = Uint8Array.from(atob(doc.ciphertext), (c) => c.charCodeAt(0));
  bytes[3] ^= 1;
  doc.ciphertext = btoa(String.fromCharCode(...bytes));
  await Deno.writeTextFile(file, JSON.stringify(doc));
  const tampered = await Deno.readFile(file);
  await assertRejects(
    () => t.vault.getSecret("prod", "db"),
    hasCode(ErrorCode.VAULT_UNREADABLE, "authentication failed"),
  );
  await assertRejects(
    () => t.vault.put("prod", "x", "value-1"),
    hasCode(ErrorCode.VAULT_UNREADABLE),
  );
  assertEquals(await Deno.readFile(file), tampered, "nothing was changed");
  // The vault's name is authenticated: the same file under another name does not open.
  await Deno.writeTextFile(file, original);
  await Deno.copyFile(file, `${t.root}/vaults/dev.vault`);
  await assertRejects(
    () => t.vault.getSecret("dev", "db"),
    hasCode(ErrorCode.VAULT_UNREADABLE, "authentication failed"),
  );
  assertEquals(await t.vault.getSecret("prod", "db"), "s3cret-value");
});

Deno.test("a key file others can read, or one inside the repository, is refused", async () => {
  await using t = await setup();
  const { keyFile } = await t.vault.create("prod");
  await Deno.chmod(keyFile, 0o644);
  await assertRejects(
    () => t.vault.getSecret("prod", "db"),
    hasCode(ErrorCode.VAULT_KEY_INSECURE, "mode 0644"),
  );
  await Deno.chmod(keyFile, 0o600);
  const inside = `${t.root}/vault.key`;
  await Deno.copyFile(keyFile, inside);
  await Deno.chmod(inside, 0o600);
  t.env.SWAMP_VAULT_KEY_FILE = inside;
  await assertRejects(
    () => t.vault.getSecret("prod", "db"),
    hasCode(ErrorCode.VAULT_KEY_INSECURE, "inside the repository"),
  );
});

Deno.test("names that are not plain words are usage errors", async () => {
  await using t = await setup();
  await assertRejects(() => t.vault.create("../x"), hasCode(ErrorCode.USAGE));
  await t.vault.create("prod");
  await assertRejects(() => t.vault.put("prod", "a b", "value"), hasCode(ErrorCode.USAGE));
  await assertRejects(() => t.vault.put("prod", "k", ""), hasCode(ErrorCode.USAGE, "empty"));
});
