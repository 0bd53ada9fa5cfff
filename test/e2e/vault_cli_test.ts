// `swamp vault` through the real CLI: round trip, --json shapes, a wrong key
// file, and two processes putting keys at once.
import { assert, assertEquals, assertMatch, runCli } from "../helpers/mod.ts";
import { vaultEnv, vaultPut } from "../helpers/vault.ts";
import { cliArgv } from "../helpers/cli.ts";

async function repo() {
  const dir = await Deno.makeTempDir({ prefix: "swamp-vault-cli-" });
  const root = `${dir}/repo`;
  const init = await runCli(["repo", "init", root, "-q"]);
  if (init.code !== 0) throw new Error(init.stderr);
  const env = vaultEnv(dir);
  return {
    dir,
    root,
    env,
    cli: (args: string[]) => runCli([...args, "--repo", root], { env }),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("vault create, put (stdin), list, rm round trip with --json", async () => {
  await using r = await repo();
  const created = await r.cli(["vault", "create", "prod", "--json"]);
  assertEquals(created.code, 0, created.stderr);
  const made = created.json as { vault: string; keyFile: string; keyCreated: boolean };
  assertEquals(made.vault, "prod");
  assertEquals(made.keyCreated, true);
  assert(made.keyFile.startsWith(`${r.dir}/state/swamp/vault-keys/`));
  assertEquals((await Deno.stat(made.keyFile)).mode! & 0o777, 0o600);

  const put = await vaultPut(r.root, "prod", "db", "pa55-word-value\n", r.env, ["--json"]);
  assertEquals(put.code, 0, put.stderr);
  assertEquals(put.json, { vault: "prod", key: "db", created: true });
  const again = await vaultPut(r.root, "prod", "db", "pa55-word-value2\n", r.env);
  assertMatch(again.stdout, /replaced db in vault prod/);
  const empty = await vaultPut(r.root, "prod", "x", "\n", r.env);
  assertEquals(empty.code, 2);
  assertMatch(empty.stderr, /error\[usage\]: the secret is empty/);

  const list = await r.cli(["vault", "list", "--json"]);
  assertEquals((list.json as { vaults: unknown }).vaults, [{ name: "prod" }]);
  assertEquals((list.json as { keyFile: string }).keyFile, made.keyFile);
  const keys = await r.cli(["vault", "list", "prod", "-q"]);
  assertEquals(keys.stdout, "db\n");
  const text = await Deno.readTextFile(`${r.root}/vaults/prod.vault`);
  assert(!text.includes("pa55-word-value"), "the vault file holds no plain value");

  const rmKey = await r.cli(["vault", "rm", "prod", "db", "--json"]);
  assertEquals(rmKey.json, { vault: "prod", key: "db", removed: true });
  const missing = await r.cli(["vault", "rm", "prod", "db"]);
  assertEquals(missing.code, 4);
  assertMatch(missing.stderr, /error\[secret_not_found\]/);
  const rmVault = await r.cli(["vault", "rm", "prod"]);
  assertMatch(rmVault.stdout, /removed vault prod and every secret in it/);
  const none = await r.cli(["vault", "list", "prod"]);
  assertEquals(none.code, 4);
  assertMatch(none.stderr, /error\[vault_not_found\]: no vault named prod/);
});

Deno.test("a wrong, tampered or exposed key file: a clear error, exit 8, the vault unchanged", async () => {
  await using r = await repo();
  await r.cli(["vault", "create", "prod"]);
  await vaultPut(r.root, "prod", "db", "pa55-word-value", r.env);
  const file = `${r.root}/vaults/prod.vault`;
  const before = await Deno.readFile(file);
  const keyFile = (await r.cli(["vault", "list", "--json"])).json as { keyFile: string };
  const original = await Deno.readFile(keyFile.keyFile);

  await Deno.writeTextFile(
    keyFile.keyFile,
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
  );
  const wrong = await vaultPut(r.root, "prod", "db", "other-value", r.env);
  assertEquals(wrong.code, 8, wrong.stderr);
  assertMatch(
    wrong.stderr,
    /error\[vault_unreadable\]: the vault prod was written with another key/,
  );
  assertEquals(await Deno.readFile(file), before, "the vault file is byte for byte the same");

  await Deno.writeFile(keyFile.keyFile, original);
  await Deno.chmod(keyFile.keyFile, 0o644);
  const exposed = await r.cli(["vault", "list", "prod"]);
  assertEquals(exposed.code, 8);
  assertMatch(
    exposed.stderr,
    /error\[vault_key_insecure\]: .* \(mode 0644\)\n  hint: run: chmod 600/,
  );
  await Deno.chmod(keyFile.keyFile, 0o600);

  const doc = JSON.parse(new TextDecoder().decode(before));
  doc.ciphertext = doc.ciphertext.slice(0, -6) +
    (doc.ciphertext.endsWith("AAAA==") ? "BAAA==" : "AAAA==");
  await Deno.writeTextFile(file, JSON.stringify(doc));
  const tampered = await r.cli(["vault", "list", "prod"]);
  assertEquals(tampered.code, 8);
  assertMatch(tampered.stderr, /error\[vault_unreadable\]: .*authentication failed/);
});

Deno.test("two processes putting keys into one vault at once lose none", async () => {
  await using r = await repo();
  await r.cli(["vault", "create", "shared"]);
  const writer = async (who: string) => {
    for (let i = 0; i < 4; i++) {
      const put = await vaultPut(r.root, "shared", `${who}${i}`, `value-${who}-${i}`, r.env);
      if (put.code !== 0) throw new Error(put.stderr);
    }
  };
  await Promise.all([writer("a"), writer("b")]);
  const keys = await r.cli(["vault", "list", "shared", "--json"]);
  assertEquals((keys.json as { keys: string[] }).keys, [
    "a0",
    "a1",
    "a2",
    "a3",
    "b0",
    "b1",
    "b2",
    "b3",
  ]);
});

Deno.test("a vault put killed at any moment leaves the old vault or the new one, whole", async () => {
  await using r = await repo();
  await r.cli(["vault", "create", "prod"]);
  await vaultPut(r.root, "prod", "k", "value-0", r.env);
  const big = "x".repeat(1 << 20);
  for (let i = 1; i <= 4; i++) {
    const [program, ...args] = cliArgv(["vault", "put", "prod", "k", "--repo", r.root]);
    const child = new Deno.Command(program, {
      args,
      env: { NO_COLOR: "1", ...r.env },
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`value-${i}-${big}`));
    await writer.close();
    // Killed somewhere between start-up and the end of its write.
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1200));
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already finished.
    }
    await child.status;
    const keys = await r.cli(["vault", "list", "prod", "--json"]);
    assertEquals(keys.code, 0, `after kill ${i}: ${keys.stderr}`);
    assertEquals((keys.json as { keys: string[] }).keys, ["k"]);
  }
  const names = await r.cli(["vault", "list", "-q"]);
  assertEquals(names.stdout, "prod\n", "a temporary file left by a kill is not a vault");
});
