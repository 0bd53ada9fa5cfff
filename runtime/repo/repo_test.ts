// .swamp.yaml: the store and the PostgreSQL store's settings, read without a
// YAML parser, written back the same way.
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { readRepoConfig, renderRepoConfig } from "./repo.ts";

async function read(text: string) {
  const dir = await Deno.makeTempDir({ prefix: "swamp-repo-config-" });
  try {
    await Deno.writeTextFile(`${dir}/.swamp.yaml`, text);
    return await readRepoConfig(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("repo config: the store and the postgres settings, plain, quoted or commented", async () => {
  assertEquals(await read("version: 1\n"), { store: "file" });
  assertEquals(await read("store: 'sqlite' # fast listings\n"), { store: "sqlite" });
  assertEquals(
    await read(
      'store: postgres\ndsn: "postgres://ops@db/swamp?sslmode=require"\n' +
        "passwordFile: secrets/pg # not in git\npassword: vault:ops/pg\n",
    ),
    {
      store: "postgres",
      dsn: "postgres://ops@db/swamp?sslmode=require",
      passwordFile: "secrets/pg",
      password: "vault:ops/pg",
    },
  );
});

Deno.test("repo config: what is rendered reads back the same", async () => {
  for (
    const config of [
      { store: "file" as const },
      {
        store: "postgres" as const,
        dsn: "postgres://ops@/swamp?host=%2Frun%2Fpg&application_name=swamp ci",
        passwordFile: "/home/ops/pg password",
      },
    ]
  ) {
    assertEquals(await read(renderRepoConfig(config)), config);
  }
});

Deno.test("repo config: an unknown store names the three", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-repo-config-" });
  try {
    await Deno.writeTextFile(`${dir}/.swamp.yaml`, "store: mysql\n");
    const error = await readRepoConfig(dir).then(() => undefined, (e) => e);
    assert(error instanceof SwampError, String(error));
    assertEquals(error.code, ErrorCode.USAGE);
    assertEquals(error.hint, "set `store: file`, `store: sqlite` or `store: postgres`");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
